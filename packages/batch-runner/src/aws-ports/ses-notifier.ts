import { type SESClient, SendEmailCommand } from '@aws-sdk/client-ses';
import { ValidationError } from '@spotjobs/core';
import { type AwsRetryOptions, callAws } from './aws-call.ts';
import type { ClusterNotice, Notifier } from './notifier.ts';

export interface SesNotifierOptions {
  readonly client: SESClient;
  /** A verified sender address. */
  readonly from: string;
  /**
   * Recipients; `{uid}` in an address is replaced by the requester's user id
   * (`{uid}@example.ac.uk`), and such addresses are dropped when the user id was refused.
   */
  readonly to: readonly string[];
  readonly replyTo?: readonly string[];
  readonly retry?: AwsRetryOptions;
}

/**
 * `Notifier` through Amazon SES (`SendEmail`, plain text, UTF-8).
 *
 * No emulator speaks SES, so this adapter is unit-tested on the requests it builds.
 *
 * @example
 * ```ts
 * const notifier = new SesNotifier({ client: new SESClient({}), from: 'clusters@example.ac.uk', to: ['admin@example.ac.uk', '{uid}@example.ac.uk'] });
 * ```
 */
export class SesNotifier implements Notifier {
  readonly #options: SesNotifierOptions;

  constructor(options: SesNotifierOptions) {
    if (options.to.length === 0)
      throw new ValidationError('invalid SES notifier', ['to must name a recipient']);
    this.#options = options;
  }

  async notify(notice: ClusterNotice, signal?: AbortSignal): Promise<void> {
    const input = sendEmailInput(this.#options, notice);
    if (!input) return;
    await callAws(
      (abortSignal) => this.#options.client.send(new SendEmailCommand(input), { abortSignal }),
      { operation: 'SendEmail', key: notice.subject, signal },
      this.#options.retry,
    );
  }
}

/**
 * The SendEmail request for a notice, or undefined when no recipient is left (every one
 * needed a user id and the notice has none).
 *
 * @example
 * ```ts
 * sendEmailInput({ client, from: 'a@x', to: ['{uid}@x'] }, notice)?.Destination; // { ToAddresses: ['alice@x'] }
 * ```
 */
export function sendEmailInput(options: Omit<SesNotifierOptions, 'client'>, notice: ClusterNotice) {
  const expand = (addresses: readonly string[]) =>
    addresses.flatMap((a) => {
      if (!a.includes('{uid}')) return [a];
      return notice.uid ? [a.replaceAll('{uid}', notice.uid)] : [];
    });
  const to = expand(options.to);
  if (to.length === 0) return undefined;
  const replyTo = expand(options.replyTo ?? []);
  return {
    Source: options.from,
    Destination: { ToAddresses: to },
    ...(replyTo.length > 0 ? { ReplyToAddresses: replyTo } : {}),
    Message: {
      Subject: { Data: notice.subject, Charset: 'UTF-8' },
      Body: { Text: { Data: notice.text, Charset: 'UTF-8' } },
    },
  };
}
