import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { App, pageTitle } from './App'
import { tokenKey } from './session'
import { json, problem, sizes } from './testing'

afterEach(() => {
  cleanup()
  vi.unstubAllGlobals()
  sessionStorage.clear()
  window.history.replaceState(null, '', '/')
})

const me = { tenant: 'acme', role: 'tenant', tokenId: 'x', storeCount: 0, storeLimit: 5 }

/** stubAPI answers GET /api/me with meAnswers in turn (the last one after that), and the pages' calls. */
function stubAPI(...meAnswers: (() => Response)[]) {
  const calls: string[] = []
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string) => {
      calls.push(url)
      if (url === '/api/me') return (meAnswers.shift() ?? (() => json(200, me)))()
      if (url === '/api/events') return new Response('retry: 600000\n\n', { status: 200 })
      if (url === '/api/sizes') return json(200, sizes)
      if (url.startsWith('/api/stores')) return json(200, { items: [] })
      return json(404, {})
    }),
  )
  return calls
}

function signedIn(path = '/') {
  sessionStorage.setItem(tokenKey, 'sp_token')
  window.history.replaceState(null, '', path)
  render(<App />)
}

const unavailable = () =>
  problem(503, { type: 'https://storeplatform.io/problems/unavailable', title: 'Service unavailable', detail: 'MongoDB does not answer' })

describe('App', () => {
  it('says why /api/me failed, and retries on demand', async () => {
    const calls = stubAPI(unavailable)
    signedIn()
    expect((await screen.findByRole('alert')).textContent).toBe('Service unavailable: MongoDB does not answer')
    expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('Cannot sign in')
    await waitFor(() => expect(document.title).toBe('Cannot sign in · Store Platform'))
    expect(sessionStorage.getItem(tokenKey)).toBe('sp_token')
    fireEvent.click(screen.getByRole('button', { name: 'Retry' }))
    await screen.findByRole('heading', { name: 'Stores', level: 1 })
    expect(calls.filter((c) => c === '/api/me')).toHaveLength(2)
  })

  it('signs out when /api/me answers 401', async () => {
    stubAPI(() => problem(401, { type: 'https://storeplatform.io/problems/unauthorized', title: 'Unauthorized' }))
    signedIn()
    expect((await screen.findByText('Your token is no longer valid. Sign in again.')).getAttribute('role')).toBe('status')
    expect(screen.getByLabelText('API token')).toBeTruthy()
    expect(screen.queryByRole('button', { name: 'Retry' })).toBeNull()
    expect(sessionStorage.getItem(tokenKey)).toBeNull()
  })

  it('marks the open page in the navigation and names the tab after it', async () => {
    stubAPI()
    signedIn()
    await screen.findByRole('heading', { name: 'Stores', level: 1 })
    const nav = screen.getByRole('navigation', { name: 'Main' })
    const current = () => within(nav).getAllByRole('link').map((a) => `${a.textContent}:${a.getAttribute('aria-current') ?? ''}`)
    expect(current()).toEqual(['Stores:page', 'New store:'])
    await waitFor(() => expect(document.title).toBe('Stores · Store Platform'))
    fireEvent.click(within(nav).getByRole('link', { name: 'New store' }))
    await screen.findByRole('heading', { name: 'New store', level: 1 })
    expect(current()).toEqual(['Stores:', 'New store:page'])
    await waitFor(() => expect(document.title).toBe('New store · Store Platform'))
  })

  it('names the sign-in page', async () => {
    stubAPI()
    render(<App />)
    await waitFor(() => expect(document.title).toBe('Sign in · Store Platform'))
  })
})

describe('pageTitle', () => {
  it.each([
    ['/', 'Stores'],
    ['/new', 'New store'],
    ['/stores/shop', 'shop'],
    ['/stores/shop/', 'shop'],
    ['/rollouts', 'Rollouts'],
    ['/rollouts/r-1', 'Rollout r-1'],
    ['/nowhere', 'Page not found'],
  ])('%s -> %s', (path, want) => {
    expect(pageTitle(path)).toBe(want)
  })
})
