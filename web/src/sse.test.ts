import { describe, expect, it } from 'vitest'
import { SSEParser, stream, type SSEEvent } from './sse'

describe('SSEParser', () => {
  it('parses events split across chunks, with ids, comments and retry', () => {
    const p = new SSEParser()
    const got: SSEEvent[] = []
    for (const chunk of ['retry: 2000\n\n: keep-alive\n\nid: 17\nevent: st', 'ore\ndata: {"a":1}\n', '\nevent: progress\r\ndata: x\r\ndata: y\r\n\r\n']) {
      got.push(...p.push(chunk))
    }
    expect(got).toEqual([
      { type: 'store', data: '{"a":1}', id: '17' },
      { type: 'progress', data: 'x\ny', id: '17' },
    ])
    expect(p.retry).toBe(2000)
    expect(p.lastId).toBe('17')
  })
})

describe('stream', () => {
  it('reconnects with Last-Event-ID and stops on 401', async () => {
    const seen: (string | null)[] = []
    const events: string[] = []
    let calls = 0
    const fetchImpl = (async (_url: string, init: RequestInit) => {
      const h = init.headers as Record<string, string>
      seen.push(h['Last-Event-ID'] ?? null)
      calls++
      if (calls === 1) return new Response('retry: 1\n\nid: 5\nevent: store\ndata: {}\n\n', { status: 200 })
      return new Response('', { status: 401 })
    }) as unknown as typeof fetch
    let unauthorized = false
    await stream({
      url: '/api/events',
      authorization: 'Bearer t',
      signal: new AbortController().signal,
      fetchImpl,
      onEvent: (ev) => events.push(`${ev.type}#${ev.id}`),
      onUnauthorized: () => {
        unauthorized = true
      },
    })
    expect(events).toEqual(['store#5'])
    expect(seen).toEqual([null, '5'])
    expect(unauthorized).toBe(true)
  })
})
