// menagerie/recipes: locks, leader election, discovery, barriers, caches and more, built only on
// the public API in src/index.ts.

export {};
