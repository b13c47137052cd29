// The Pacloud-compatible compile farm arrives with its own issue; this package is a shell until then.
export {};
