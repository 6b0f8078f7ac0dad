export * from './peer-api.ts';
export * from './fields.ts';
