export * from './piece-size.ts';
