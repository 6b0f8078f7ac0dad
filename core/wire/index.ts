export * from './peer-api.ts';
export * from './fields.ts';
export * from './host-port.ts';
export * from './host-api.ts';
