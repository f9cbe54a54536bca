// Server-Sent Events over fetch. EventSource cannot send an Authorization
// header, and a token in the URL would end up in logs, so the dashboard
// reads the stream itself: parse, dispatch, and reconnect with Last-Event-ID
// after the delay the server asked for.

export interface SSEEvent {
  type: string
  data: string
  id: string
}

/** SSEParser turns chunks of a text/event-stream into events. */
export class SSEParser {
  private buf = ''
  private type = ''
  private data: string[] = []
  private sawData = false
  /** lastId is the last event ID seen; it survives events without an id. */
  lastId = ''
  /** retry is the reconnection delay the server asked for, in ms. */
  retry = 0

  push(chunk: string): SSEEvent[] {
    this.buf += chunk
    const out: SSEEvent[] = []
    for (;;) {
      const m = /\r\n|\r|\n/.exec(this.buf)
      if (!m) break
      // A lone \r at the end may be the first half of \r\n.
      if (m[0] === '\r' && m.index === this.buf.length - 1) break
      const line = this.buf.slice(0, m.index)
      this.buf = this.buf.slice(m.index + m[0].length)
      const ev = this.line(line)
      if (ev) out.push(ev)
    }
    return out
  }

  private line(line: string): SSEEvent | null {
    if (line === '') {
      if (!this.sawData) {
        this.type = ''
        return null
      }
      const ev = { type: this.type || 'message', data: this.data.join('\n'), id: this.lastId }
      this.type = ''
      this.data = []
      this.sawData = false
      return ev
    }
    if (line.startsWith(':')) return null
    const colon = line.indexOf(':')
    const field = colon < 0 ? line : line.slice(0, colon)
    let value = colon < 0 ? '' : line.slice(colon + 1)
    if (value.startsWith(' ')) value = value.slice(1)
    switch (field) {
      case 'event':
        this.type = value
        break
      case 'data':
        this.data.push(value)
        this.sawData = true
        break
      case 'id':
        if (!value.includes('\0')) this.lastId = value
        break
      case 'retry':
        if (/^\d+$/.test(value)) this.retry = Number(value)
        break
    }
    return null
  }
}

export interface StreamOptions {
  url: string
  authorization: string
  onEvent: (ev: SSEEvent) => void
  /** onState reports whether the stream is connected, for a "live" badge. */
  onState?: (connected: boolean) => void
  /** onUnauthorized is called on 401; the stream then stops. */
  onUnauthorized?: () => void
  signal: AbortSignal
  fetchImpl?: typeof fetch
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms)
    signal.addEventListener('abort', () => {
      clearTimeout(t)
      resolve()
    })
  })

/** stream reads the event stream until signal aborts, reconnecting as needed. */
export async function stream(o: StreamOptions): Promise<void> {
  const doFetch = o.fetchImpl ?? ((...a: Parameters<typeof fetch>) => fetch(...a))
  const parser = new SSEParser()
  let delay = 2000
  while (!o.signal.aborted) {
    try {
      const headers: Record<string, string> = { Authorization: o.authorization, Accept: 'text/event-stream' }
      if (parser.lastId) headers['Last-Event-ID'] = parser.lastId
      const res = await doFetch(o.url, { headers, signal: o.signal, cache: 'no-store' })
      if (res.status === 401) {
        o.onState?.(false)
        o.onUnauthorized?.()
        return
      }
      if (!res.ok || !res.body) throw new Error(`event stream: HTTP ${res.status}`)
      o.onState?.(true)
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader()
      for (;;) {
        const { value, done } = await reader.read()
        if (done) break
        for (const ev of parser.push(value)) o.onEvent(ev)
        if (parser.retry) delay = parser.retry
      }
    } catch {
      if (o.signal.aborted) return
    }
    o.onState?.(false)
    await sleep(delay, o.signal)
  }
}
