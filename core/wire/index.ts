export * from './peer-api.ts';
