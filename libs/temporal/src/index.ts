import { Client, Connection } from '@temporalio/client';

/** The task queue every worker of this engine polls. */
export const TASK_QUEUE = 'sop-engine';

export interface TemporalSettings {
  address: string;
  namespace: string;
}

export async function connectClient(settings: TemporalSettings): Promise<Client> {
  const connection = await Connection.connect({ address: settings.address, connectTimeout: '5s' });
  return new Client({ connection, namespace: settings.namespace });
}

/** Workflow ids are derived from domain ids so a retried start cannot create a second run. */
export const workflowIds = {
  roundTrip: (roundTripId: string) => `round-trip/${roundTripId}`,
};
