// The Fossa-compatible ETL node arrives with its own issue; this package is a shell until then.
export {};
