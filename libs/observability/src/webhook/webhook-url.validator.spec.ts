import { validateSection } from '@m7s/core';
import { WebhookConfig } from '../observability.config';

function problemsOf(plain: object): string[] {
  const problems: string[] = [];
  validateSection(WebhookConfig, plain, 'webhook', problems);
  return problems;
}

describe('webhook config', () => {
  it('accepts http and https URLs, globally and per known event', () => {
    expect(problemsOf({ urls: ['http://127.0.0.1:9000/hook', 'https://hooks.example.com/m7s?token=x'], events: { publish_start: ['http://a/b'], keep_alive: [] } })).toEqual([]);
  });

  it.each([
    [{ urls: ['ftp://example.com/hook'] }, 'webhook.urls'],
    [{ urls: ['not a url'] }, 'webhook.urls'],
    [{ urls: 'http://a/b' }, 'webhook.urls'],
    [{ events: { publish_start: ['file:///etc/passwd'] } }, 'webhook.events'],
    [{ events: { publish_begin: ['http://a/b'] } }, 'webhook.events'],
    [{ events: { publish_start: 'http://a/b' } }, 'webhook.events'],
    [{ backoff: 'soon' }, 'webhook.backoff'],
    [{ attempts: 0 }, 'webhook.attempts'],
  ])('refuses %j, naming %s', (plain, key) => {
    const problems = problemsOf(plain);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(new RegExp(`^${key.replace('.', '\\.')} = `));
  });
});
