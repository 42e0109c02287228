import { defineQuery, defineSignal } from '@temporalio/workflow';

/**
 * Every signal and query of the engine's workflows, defined once: the workflows set handlers for these,
 * and the API and the worker's wake relay send them by these same objects (never by a string name).
 */

/** Something earlier may be due (new entrants, a changed SOP): look now. */
export const wakeSignal = defineSignal('wake');
/** Hold between pages (a journey's dispatcher, a broadcast). */
export const pauseSignal = defineSignal('pause');
export const resumeSignal = defineSignal('resume');
/** Ends a journey's dispatcher after the current page. */
export const archiveSignal = defineSignal('archive');
/** Stops a broadcast before its next page. */
export const cancelBroadcastSignal = defineSignal('cancel');

export type DispatcherState = 'running' | 'paused' | 'archived';
export const dispatcherStatusQuery = defineQuery<{ state: DispatcherState; passes: number; tasks: number }>('status');
export const broadcastStatusQuery = defineQuery<{ state: 'waiting' | 'sending' | 'paused' | 'cancelled' | 'done'; tasks: number }>('status');

/** A tenant's WeCom sync: the run it works on and the phase it is in. */
export type WecomSyncPhase = 'starting' | 'members' | 'tags' | 'contacts' | 'groups' | 'succeeded' | 'failed';
export const wecomSyncStatusQuery = defineQuery<{ runId: string | null; phase: WecomSyncPhase; kind?: WecomSyncKind }>('status');
/** A full sync repairs everything; an incremental one re-reads only what changed since the last successful sync. */
export type WecomSyncKind = 'full' | 'incremental';
/**
 * A sync asked of a tenant's sync workflow while it runs (the API signals-with-start it; the nightly Schedule's
 * workflow signals it). `runId`: the run row the API made for the request, when it made one.
 */
export const wecomSyncRequestSignal = defineSignal<[{ kind: WecomSyncKind; runId?: string }]>('requestSync');
