/**
 * Headers for the origin (Authorization, cookies, …) given by peers when they register a task.
 * They live only here, in this replica's memory: never in an event, a snapshot, Kafka or a log.
 * A replica that takes a task over learns them again from the next peer that registers it.
 */
export class OriginCredentials {
  private readonly byTask = new Map<string, Record<string, string>>();

  remember(taskId: string, headers: Record<string, string>): void {
    if (Object.keys(headers).length > 0) this.byTask.set(taskId, { ...headers });
  }

  headersFor(taskId: string): Record<string, string> {
    return this.byTask.get(taskId) ?? {};
  }
}
