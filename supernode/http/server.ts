import Fastify, { type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Logger } from '../../edge/log/logger.ts';
import type { Metrics } from '../metrics.ts';
import { installProblemHandlers, replyProblem, toProblem } from '../../edge/http/fastify-problems.ts';
import { problemOf } from '../../edge/http/problem.ts';
import { guardRoutes } from '../../edge/http/route-guard.ts';
import { bearerAuth } from '../../edge/http/bearer-auth.ts';
import { MAX_REQUEST_BODY_BYTES } from '../../core/wire/peer-api.ts';

const OPENAPI_PATH = '/api/v1/openapi.json';

/** The routes the cluster token protects: the whole API but its OpenAPI document. */
export function isClusterApi(routePath: string): boolean {
  return (routePath === '/api/v1' || routePath.startsWith('/api/v1/')) && routePath !== OPENAPI_PATH;
}

export type App = Awaited<ReturnType<typeof createApp>>;

export interface AppOptions {
  logger: Logger;
  metrics: Metrics;
  /** Cluster token: required as a Bearer token on /api/v1 when set. */
  token?: string;
  /** Max accepted JSON body, bytes. */
  bodyLimit?: number;
  /** Set while the supernode cannot serve (draining, store down): API answers 503. */
  unavailable?: () => string | undefined;
}

/**
 * The Fastify instance with what every route relies on: zod validation of bodies, params and
 * responses, problem+json errors, token auth on the cluster API, the OpenAPI document (built
 * from the same zod schemas) at /api/v1/openapi.json, health and metrics endpoints.
 */
export async function createApp(opts: AppOptions) {
  // Request logs are at info level; the http child logs warnings and errors only.
  // Doubled slashes route like single ones: every spelling of a path reaches the same route
  // and so the same gates (route-guard.ts), instead of some spellings answering 404.
  const app = Fastify({
    loggerInstance: opts.logger.child({ component: 'http' }, { level: 'warn' }),
    bodyLimit: opts.bodyLimit ?? MAX_REQUEST_BODY_BYTES,
    // maxParamLength above every parameter's schema, so that a long one is the schema's 400.
    routerOptions: { ignoreDuplicateSlashes: true, maxParamLength: 1000 },
    // The router's own refusals (bad percent-encoding, a parameter over maxParamLength) as problems.
    frameworkErrors: (err, _req, reply) => replyProblem(reply, toProblem(err)),
    // A body with a "__proto__" or "constructor.prototype" key is accepted with the key dropped:
    // the schemas allow unknown keys, and a 400 "not valid JSON" would say the JSON was wrong.
    onProtoPoisoning: 'remove',
    onConstructorPoisoning: 'remove',
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  // Awaited so that swagger's onRoute hook sees every route registered after it.
  await app.register(swagger, {
    openapi: { info: { title: 'Damselfly supernode', version: '1' }, components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } } },
    transform: withEmptyResponses(jsonSchemaTransform),
  });
  installProblemHandlers(app as unknown as FastifyInstance, opts.logger);

  // Decided per route (the one the router matched), never on the raw URL: see route-guard.ts.
  guardRoutes(app as unknown as FastifyInstance, isClusterApi, [
    bearerAuth(opts.token),
    () => {
      const down = opts.unavailable?.();
      return down ? problemOf('DF_ERR_UNAVAILABLE', down, { retryAfterMs: 1000 }) : undefined;
    },
  ]);

  // Unhealthy while starting (no shard held yet) or draining: a load balancer sends nothing here then.
  app.get('/healthy', { schema: { hide: true } }, async (_req, reply) => {
    const down = opts.unavailable?.();
    return down ? replyProblem(reply, problemOf('DF_ERR_UNAVAILABLE', down, { retryAfterMs: 1000 })) : { status: 'ok' };
  });
  app.get('/_ping', { schema: { hide: true } }, async (_req, reply) => reply.type('text/plain').send('pong'));
  app.get('/metrics', { schema: { hide: true } }, async (_req, reply) =>
    reply.type(opts.metrics.registry.contentType).send(await opts.metrics.registry.metrics()),
  );
  app.get(OPENAPI_PATH, { schema: { hide: true } }, async () => app.swagger());
  return app;
}

/**
 * A 204 is documented without a body: fastify-type-provider-zod would describe `z.null()` as a
 * JSON `null`, and the document would promise an application/json body that never comes.
 */
function withEmptyResponses(transform: typeof jsonSchemaTransform): typeof jsonSchemaTransform {
  return (input) => {
    const out = transform(input);
    const response = (out.schema as { response?: Record<string, unknown> } | undefined)?.response;
    if (response?.['204']) response['204'] = { type: 'null', description: (input.schema as { response?: Record<string, { description?: string }> }).response?.['204']?.description ?? 'No Content' };
    return out;
  };
}
