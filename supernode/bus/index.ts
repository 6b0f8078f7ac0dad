export type { EventBus } from './event-bus.ts';
export { KafkaEventBus, DEFAULT_TOPIC, type KafkaEventBusOptions } from './kafka-event-bus.ts';
export { MemoryEventBus } from './memory-event-bus.ts';
export { silentLog, type LogSink } from '../../edge/log/log-sink.ts';
export { HEADER, toKafkaMessage, fromKafkaMessage } from './kafka-message.ts';
