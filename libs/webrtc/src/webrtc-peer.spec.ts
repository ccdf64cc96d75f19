import { randomBytes } from 'node:crypto';
import { classes, Message, methods } from 'werift';
import { IceGuard } from './webrtc-peer';

const PASSWORD = 'abcdefghijklmnopqrstuv';
const PEER: [string, number] = ['192.0.2.10', 50000];
const OTHER: [string, number] = ['192.0.2.66', 40000];

function bindingRequest(password: string, o: { method?: number; messageClass?: number } = {}): Buffer {
  return new Message(o.method ?? methods.BINDING, o.messageClass ?? classes.REQUEST)
    .setAttribute('USERNAME', 'srv1:cli1')
    .setAttribute('PRIORITY', 1853824767)
    .setAttribute('ICE-CONTROLLING', BigInt(42))
    .addMessageIntegrity(Buffer.from(password))
    .addFingerprint().bytes;
}

const RTP = Buffer.concat([Buffer.from([0x80, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1]), randomBytes(100)]);
const DTLS = Buffer.concat([Buffer.from([0x16, 0xfe, 0xfd]), randomBytes(40)]);

describe('IceGuard', () => {
  it('takes DTLS and media only from an address that did a binding request with our password', () => {
    const guard = new IceGuard({ localPassword: PASSWORD, userHistory: {} });
    expect(guard.accepts(RTP, PEER)).toBe(false);
    expect(guard.accepts(DTLS, PEER)).toBe(false);
    expect(guard.accepts(bindingRequest(PASSWORD), PEER)).toBe(true);
    expect(guard.accepts(RTP, PEER)).toBe(true);
    expect(guard.accepts(DTLS, PEER)).toBe(true);
    expect(guard.accepts(RTP, OTHER)).toBe(false);
  });

  it('drops requests made with another password, other STUN methods, and garbage', () => {
    const guard = new IceGuard({ localPassword: PASSWORD, userHistory: {} });
    expect(guard.accepts(bindingRequest('not-the-password-at-all'), OTHER)).toBe(false);
    expect(guard.accepts(bindingRequest(PASSWORD, { method: methods.ALLOCATE }), OTHER)).toBe(false);
    expect(guard.accepts(RTP, OTHER)).toBe(false);
    for (let i = 0; i < 200; i++) expect(guard.accepts(randomBytes(Math.floor(Math.random() * 300)), OTHER)).toBe(false);
  });

  it('takes from a verified peer only DTLS records werift survives: no unknown content type, no plaintext alert', () => {
    const guard = new IceGuard({ localPassword: PASSWORD, userHistory: {} });
    guard.accepts(bindingRequest(PASSWORD), PEER);
    const record = (type: number, epoch: number, fragment: Buffer) => {
      const header = Buffer.from([type, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
      header.writeUInt16BE(epoch, 3);
      header.writeUInt16BE(fragment.length, 11);
      return Buffer.concat([header, fragment]);
    };
    expect(guard.accepts(record(22, 0, randomBytes(60)), PEER)).toBe(true);
    expect(guard.accepts(record(23, 1, randomBytes(60)), PEER)).toBe(true);
    expect(guard.accepts(record(21, 1, randomBytes(26)), PEER)).toBe(true);
    expect(guard.accepts(Buffer.concat([record(20, 0, Buffer.from([1])), record(22, 1, randomBytes(40))]), PEER)).toBe(true);
    expect(guard.accepts(record(21, 0, Buffer.from([1, 0])), PEER)).toBe(false);
    expect(guard.accepts(record(21, 1, Buffer.from([1, 0])), PEER)).toBe(false);
    expect(guard.accepts(record(25, 1, randomBytes(30)), PEER)).toBe(false);
    expect(guard.accepts(Buffer.concat([record(23, 1, randomBytes(30)), record(30, 0, randomBytes(4))]), PEER)).toBe(false);
    expect(guard.accepts(record(22, 0, randomBytes(60)).subarray(0, 10), PEER)).toBe(false);
  });

  it("passes STUN responses (werift checks them against its transactions) and an earlier generation's password", () => {
    const guard = new IceGuard({ localPassword: PASSWORD, userHistory: { old1: 'the-password-before-restart' } });
    expect(guard.accepts(bindingRequest('anything-at-all-here', { messageClass: classes.RESPONSE }), OTHER)).toBe(true);
    expect(guard.accepts(bindingRequest('the-password-before-restart'), PEER)).toBe(true);
    expect(guard.accepts(RTP, PEER)).toBe(true);
  });
});
