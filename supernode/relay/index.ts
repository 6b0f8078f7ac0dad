export { OutboxRelay, type OutboxRelayOptions, type RelayMetrics } from './outbox-relay.ts';
