// Placeholder until this family lands: see index.ts for what it holds.
export {};
