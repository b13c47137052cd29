import { SESClient } from '@aws-sdk/client-ses';
import { BackendError } from '@spotjobs/core';
import { describe, expect, it } from 'vitest';
import type { ClusterNotice } from '../src/aws-ports/notifier.ts';
import { SesNotifier, sendEmailInput } from '../src/aws-ports/ses-notifier.ts';
import { fakeAwsHttp } from './trigger-test-kit.ts';

const notice: ClusterNotice = {
  outcome: 'failed',
  uid: 'alice',
  cluster: 'demo',
  subject: 'Cluster demo of alice: create failed',
  text: 'Cluster: demo\nReason: capacity\n',
};

const NS = 'http://ses.amazonaws.com/doc/2010-12-01/';

describe('SesNotifier (SES SendEmail through the SDK, on a fake HTTP handler)', () => {
  it('sends a plain-text UTF-8 e-mail to the admin and the user ({uid} filled in)', async () => {
    const http = fakeAwsHttp(() => ({
      status: 200,
      body: `<SendEmailResponse xmlns="${NS}"><SendEmailResult><MessageId>m-1</MessageId></SendEmailResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></SendEmailResponse>`,
    }));
    const notifier = new SesNotifier({
      client: new SESClient(http.clientConfig),
      from: 'clusters@example.ac.uk',
      to: ['admin@example.ac.uk', '{uid}@example.ac.uk'],
      replyTo: ['admin@example.ac.uk'],
    });

    await notifier.notify(notice);

    expect(Object.fromEntries(http.requests[0]!.form)).toEqual({
      Action: 'SendEmail',
      Version: '2010-12-01',
      Source: 'clusters@example.ac.uk',
      'Destination.ToAddresses.member.1': 'admin@example.ac.uk',
      'Destination.ToAddresses.member.2': 'alice@example.ac.uk',
      'ReplyToAddresses.member.1': 'admin@example.ac.uk',
      'Message.Subject.Data': 'Cluster demo of alice: create failed',
      'Message.Subject.Charset': 'UTF-8',
      'Message.Body.Text.Data': 'Cluster: demo\nReason: capacity\n',
      'Message.Body.Text.Charset': 'UTF-8',
    });
  });

  it('leaves out per-user addresses when the user id was refused, and sends nothing if none is left', () => {
    const options = { from: 'c@x.org', to: ['admin@x.org', '{uid}@x.org'] };

    expect(sendEmailInput(options, { ...notice, uid: undefined })?.Destination).toEqual({
      ToAddresses: ['admin@x.org'],
    });
    expect(
      sendEmailInput({ from: 'c@x.org', to: ['{uid}@x.org'] }, { ...notice, uid: undefined }),
    ).toBeUndefined();
  });

  it('reports a rejected message as an error (the caller logs it; the outcome stands)', async () => {
    const http = fakeAwsHttp(() => ({
      status: 400,
      body: `<ErrorResponse xmlns="${NS}"><Error><Type>Sender</Type><Code>MessageRejected</Code><Message>Email address is not verified.</Message></Error><RequestId>r</RequestId></ErrorResponse>`,
    }));
    const notifier = new SesNotifier({
      client: new SESClient(http.clientConfig),
      from: 'c@x.org',
      to: ['a@x.org'],
    });

    const error = await notifier.notify(notice).catch((err: unknown) => err);

    expect(error).toBeInstanceOf(BackendError);
    expect((error as Error).message).toContain('Email address is not verified.');
  });
});
