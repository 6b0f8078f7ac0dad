export * from './provenance.ts';
export * from './timeline.ts';
