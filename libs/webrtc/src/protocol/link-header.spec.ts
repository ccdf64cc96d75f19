import { iceServerLinks } from './link-header';

describe('iceServerLinks (RFC 9725 4.6)', () => {
  it('writes one Link value per URL, with TURN credentials, escaped', () => {
    expect(
      iceServerLinks([
        { urls: ['stun:stun.example.net'] },
        { urls: ['turn:turn.example.net?transport=udp', 'turns:turn.example.net:5349?transport=tcp'], username: 'user', credential: 'pa"ss\\' },
        { urls: ['http://example.net', 'stun:bad host'] },
      ]),
    ).toEqual([
      '<stun:stun.example.net>; rel="ice-server"',
      '<turn:turn.example.net?transport=udp>; rel="ice-server"; username="user"; credential="pa\\"ss\\\\"; credential-type="password"',
      '<turns:turn.example.net:5349?transport=tcp>; rel="ice-server"; username="user"; credential="pa\\"ss\\\\"; credential-type="password"',
    ]);
  });
});
