import { describe, expect, it, vi } from 'vitest'
import { ApiClient, ApiError, toApiError, workflowLink } from './api'

const json = (status: number, body: unknown, ctype = 'application/json') =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': ctype, 'X-Request-ID': 'rid-1' } })

describe('toApiError', () => {
  it.each<[string, Response, Partial<ApiError> & { fields?: Record<string, string> }]>([
    [
      'a validation problem maps each field',
      json(
        400,
        {
          type: 'https://storeplatform.io/problems/validation',
          title: 'Invalid request',
          status: 400,
          detail: 'some fields are not valid',
          requestId: 'abc',
          errors: [
            { field: 'name', message: 'is reserved' },
            { field: 'adminEmail', message: 'must be an email address' },
            { field: 'name', message: 'a second message is ignored' },
          ],
        },
        'application/problem+json',
      ),
      {
        status: 400,
        problem: 'validation',
        title: 'Invalid request',
        requestId: 'abc',
        fields: { name: 'is reserved', adminEmail: 'must be an email address' },
      },
    ],
    [
      'a conflict keeps its detail',
      json(
        409,
        { type: 'https://storeplatform.io/problems/conflict', title: 'Conflict', status: 409, detail: 'store shop exists' },
        'application/problem+json',
      ),
      { status: 409, problem: 'conflict', detail: 'store shop exists', message: 'Conflict: store shop exists', fields: {} },
    ],
    [
      'a body that is not a problem is described by its status',
      new Response('<html>bad gateway</html>', { status: 502, statusText: 'Bad Gateway', headers: { 'Content-Type': 'text/html' } }),
      { status: 502, title: 'Bad Gateway', detail: 'the server answered 502 without a problem description', fields: {} },
    ],
    [
      'broken JSON is described by its status',
      new Response('{"title":', { status: 500, headers: { 'Content-Type': 'application/json', 'X-Request-ID': 'r9' } }),
      { status: 500, title: 'HTTP 500', requestId: 'r9' },
    ],
    [
      'the request ID falls back to the header',
      json(404, { type: 'https://storeplatform.io/problems/not-found', title: 'Not found', status: 404 }, 'application/problem+json'),
      { status: 404, problem: 'not-found', requestId: 'rid-1' },
    ],
  ])('%s', async (_, res, want) => {
    const err = await toApiError(res)
    expect(err).toBeInstanceOf(ApiError)
    expect(err).toMatchObject(want)
  })
})

describe('ApiClient', () => {
  it('sends the token and the body, and returns the JSON', async () => {
    const fetchImpl = vi.fn(async () => json(202, { name: 'shop', phase: 'requested' }))
    const c = new ApiClient('sp_secret', fetchImpl as unknown as typeof fetch)
    await expect(c.createStore({ name: 'shop', engine: 'woocommerce' })).resolves.toMatchObject({ name: 'shop' })
    const [url, init] = fetchImpl.mock.calls[0] as unknown as [string, RequestInit]
    expect(url).toBe('/api/stores')
    expect(init.method).toBe('POST')
    expect(init.headers).toMatchObject({ Authorization: 'Bearer sp_secret', 'Content-Type': 'application/json' })
    expect(JSON.parse(init.body as string)).toEqual({ name: 'shop', engine: 'woocommerce' })
  })

  it('builds list queries and escapes names', async () => {
    const fetchImpl = vi.fn(async () => json(200, { items: [] }))
    const c = new ApiClient('t', fetchImpl as unknown as typeof fetch)
    await c.listStores({ status: 'ready', engine: 'medusa', cursor: 'abc', limit: 20 })
    await c.getStore('a/b')
    await c.retryStore('shop', true)
    const calls = fetchImpl.mock.calls as unknown as [string, RequestInit][]
    expect(calls[0][0]).toBe('/api/stores?status=ready&engine=medusa&cursor=abc&limit=20')
    expect(calls[1][0]).toBe('/api/stores/a%2Fb')
    expect(calls[2][0]).toBe('/api/stores/shop/retry')
    expect(JSON.parse(calls[2][1].body as string)).toEqual({ force: true })
  })

  it.each([
    ['a problem', async () => json(401, { type: 'https://storeplatform.io/problems/unauthorized', title: 'Unauthorized', status: 401 }, 'application/problem+json'), 401, 'Unauthorized'],
    ['a network failure', async () => { throw new TypeError('Failed to fetch') }, 0, 'Cannot reach the API'],
  ])('maps %s to an ApiError', async (_, impl, status, title) => {
    const c = new ApiClient('t', vi.fn(impl) as unknown as typeof fetch)
    const err = await c.me().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect(err).toMatchObject({ status, title })
  })
})

describe('a 401 ends the session', () => {
  it.each<[string, (c: ApiClient) => Promise<unknown>]>([
    ['on a call', (c) => c.listStores().catch(() => {})],
    ['on an event stream', (c) => c.events('shop', { signal: new AbortController().signal, onEvent: () => {} })],
  ])('%s', async (_, use) => {
    const fetchImpl = vi.fn(async () => json(401, { type: 'https://storeplatform.io/problems/unauthorized', title: 'Unauthorized', status: 401 }, 'application/problem+json'))
    const onUnauthorized = vi.fn()
    await use(new ApiClient('t', fetchImpl as unknown as typeof fetch, onUnauthorized))
    expect(onUnauthorized).toHaveBeenCalledTimes(1)
  })

  it('not on other errors', async () => {
    const onUnauthorized = vi.fn()
    const c = new ApiClient('t', vi.fn(async () => json(404, { title: 'Not found', status: 404 }, 'application/problem+json')) as unknown as typeof fetch, onUnauthorized)
    await expect(c.getStore('x')).rejects.toMatchObject({ status: 404 })
    expect(onUnauthorized).not.toHaveBeenCalled()
  })
})

describe('workflowLink', () => {
  it.each([
    [{ temporalWorkflowUrl: 'http://ui/namespaces/default/workflows/{workflowId}' }, 'store/shop/1/create', 'http://ui/namespaces/default/workflows/store%2Fshop%2F1%2Fcreate'],
    [{}, 'store/shop/1/create', ''],
    [{ temporalWorkflowUrl: 'http://ui/w/{workflowId}' }, undefined, ''],
  ])('%j %j', (me, id, want) => {
    expect(workflowLink({ tenant: 't', role: 'tenant', tokenId: 'x', ...me }, id)).toBe(want)
  })
})
