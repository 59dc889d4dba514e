// The public API of the message contract, and the package's `./contract` export: code outside
// shared/contract/ imports from here only.
export * from './errors.ts';
export * from './message.ts';
