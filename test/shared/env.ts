import { inject } from 'vitest';

/**
 * Connection settings for the real services: from the environment when the user set them,
 * else from what test/shared/services-setup.ts started (handed over with provide/inject).
 */
declare module 'vitest' {
  export interface ProvidedContext {
    DAMSELFLY_DATABASE_URL: string;
    DAMSELFLY_KAFKA_BROKERS: string;
  }
}

function setting(name: 'DAMSELFLY_DATABASE_URL' | 'DAMSELFLY_KAFKA_BROKERS'): string {
  const value = process.env[name] || inject(name);
  if (!value) throw new Error(`${name} is not set: run the integration or e2e project (its setup starts the service)`);
  return value;
}

export function databaseUrl(): string {
  return setting('DAMSELFLY_DATABASE_URL');
}

export function kafkaBrokers(): string[] {
  return setting('DAMSELFLY_KAFKA_BROKERS').split(',').map((b) => b.trim()).filter(Boolean);
}
