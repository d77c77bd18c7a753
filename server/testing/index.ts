// menagerie/testing: the test kit shipped to users (embedded servers and clusters, session expiry
// and connection drop helpers).

export {};
