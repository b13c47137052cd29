// The SCAR-compatible batch runner arrives with its own issue; this package is a shell until then.
export {};
