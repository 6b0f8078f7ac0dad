// The pure domain of Damselfly: no I/O, no clock, no randomness that is not passed in.
export * from './errors.ts';
export * from './events/index.ts';
export * from './ids/index.ts';
export * from './pieces/index.ts';
export * from './task/index.ts';
export * from './wire/index.ts';
export * from './scheduling/index.ts';
