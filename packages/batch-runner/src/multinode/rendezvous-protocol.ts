import { isIPv4 } from 'node:net';
import { z } from 'zod';

// The rendezvous between the nodes of one multi-node job, over plain HTTP on the main node
// (every request carries `Authorization: Bearer <rendezvousToken>`):
//
//   main                                    child i (starts any time after the main)
//   ----                                    -------
//   listen :port                            stage inputs
//   stage inputs            <-- POST /v1/register {node, address, slots}   (retried with
//                           --> 200 {joined, expected}                      backoff + jitter)
//   all N-1 joined (or timeout -> 69, registered children told so)
//   write hostfile, run app <-- GET /v1/done?node=i   (long poll, held up to donePollMs,
//        ...                --> 200 {done:false}       then asked again at once)
//   app exits with c        --> 200 {done:true, exitCode:c}   (pending and later polls)
//                                           stop child command, upload node-i outputs
//   wait (bounded) for      <-- POST /v1/finished {node, exitCode}
//   every child's finish                    exit c
//   upload, exit c
//
// The done signal cannot be missed: it is the answer to a request the child keeps open, and a
// child that asks after the main finished gets it at once. A child whose requests fail
// (refused, reset, timed out) for mainGoneMs in a row concludes the main node is gone: exit 69.

export const RendezvousPaths = {
  register: '/v1/register',
  done: '/v1/done',
  finished: '/v1/finished',
} as const;

/** A child joining (or reporting that it cannot: `failure` fails the rendezvous at once). */
export const registrationSchema = z.object({
  node: z.number().int().min(0).max(999),
  address: z.string().refine(isIPv4, 'must be an IPv4 address'),
  slots: z.number().int().min(1).max(100_000),
  failure: z.string().max(2000).optional(),
});
export type Registration = z.infer<typeof registrationSchema>;

/** A child telling the main node it is done (its outputs uploaded, or why not). */
export const finishedSchema = z.object({
  node: z.number().int().min(0).max(999),
  exitCode: z.number().int().min(0).max(255),
  error: z.string().max(2000).optional(),
});
export type FinishedReport = z.infer<typeof finishedSchema>;

/** The answer to a `done` poll. */
export const doneAnswerSchema = z.union([
  z.object({ done: z.literal(false) }),
  z.object({
    done: z.literal(true),
    exitCode: z.number().int().min(0).max(255),
    reason: z.string().optional(),
  }),
]);
export type DoneAnswer = z.infer<typeof doneAnswerSchema>;

/** Request bodies are tiny; anything bigger is not a node of ours. */
export const MAX_BODY_BYTES = 4096;
