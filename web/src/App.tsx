import { useCallback, useEffect, useMemo, useRef, useState } from 'react'
import { ApiClient, ApiError, type Me } from './api'
import { CreateStore } from './components/CreateStore'
import { SignIn } from './components/SignIn'
import { RolloutPage, Rollouts } from './components/Rollouts'
import { StoreList } from './components/StoreList'
import { StorePage } from './components/StorePage'
import { Link, Router, useDocumentTitle, useRouter } from './router'
import { SessionContext, tokenKey, type Session } from './session'

export function App() {
  return (
    <Router>
      <Shell />
    </Router>
  )
}

function Shell() {
  const [token, setToken] = useState(() => sessionStorage.getItem(tokenKey) ?? '')
  const [me, setMe] = useState<Me | null>(null)
  const [notice, setNotice] = useState('')
  // meError is why GET /api/me failed (but for a 401, which signs out);
  // attempt counts the retries, to ask again.
  const [meError, setMeError] = useState<ApiError | null>(null)
  const [attempt, setAttempt] = useState(0)
  const signOut = useCallback((reason?: string) => {
    sessionStorage.removeItem(tokenKey)
    setToken('')
    setMe(null)
    setMeError(null)
    setNotice(reason ?? '')
  }, [])
  // Any 401, to any call or stream, ends the session.
  const client = useMemo(
    () => (token ? new ApiClient(token, undefined, () => signOut('Your token is no longer valid. Sign in again.')) : null),
    [token, signOut],
  )

  // A token kept from earlier in this tab: check it is still valid.
  useEffect(() => {
    if (!client || me) return
    const ac = new AbortController()
    setMeError(null)
    client
      .me(ac.signal)
      .then(setMe)
      .catch((e: unknown) => {
        // A 401 has signed out already; an abort is this effect's cleanup.
        if (e instanceof ApiError && e.status !== 401) setMeError(e)
      })
    return () => ac.abort()
  }, [client, me, attempt])

  if (!client) {
    return (
      <SignIn
        notice={notice}
        onSignedIn={(t, m) => {
          sessionStorage.setItem(tokenKey, t)
          setNotice('')
          setToken(t)
          setMe(m)
        }}
      />
    )
  }
  if (meError) {
    return (
      <MeFailed
        error={meError}
        onRetry={() => setAttempt((a) => a + 1)}
        onSignOut={() => signOut('You are signed out.')}
      />
    )
  }
  if (!me) return <SigningIn />
  const session: Session = { client, me }
  return (
    <SessionContext.Provider value={session}>
      <Layout me={me} onSignOut={() => signOut('You are signed out.')} />
    </SessionContext.Provider>
  )
}

function SigningIn() {
  useDocumentTitle('Signing in')
  return <p role="status">Signing in…</p>
}

/** MeFailed is the page shown when the API could not say who the token is: why, and Retry. */
function MeFailed({ error, onRetry, onSignOut }: { error: ApiError; onRetry: () => void; onSignOut: () => void }) {
  useDocumentTitle('Cannot sign in')
  const heading = useRef<HTMLHeadingElement>(null)
  useEffect(() => heading.current?.focus(), [error])
  return (
    <main id="main" className="signin">
      <section className="card" aria-labelledby="me-failed-title">
        <h1 id="me-failed-title" tabIndex={-1} ref={heading}>
          Cannot sign in
        </h1>
        <p className="error banner" role="alert">
          {error.message}
          {error.requestId && <span className="muted"> (request {error.requestId})</span>}
        </p>
        <p>Your token is kept: retry when the API is back.</p>
        <div className="actions">
          <button type="button" className="primary" onClick={onRetry}>
            Retry
          </button>
          <button type="button" onClick={onSignOut}>
            Sign out
          </button>
        </div>
      </section>
    </main>
  )
}

/** pageTitle names the page at path, for document.title. */
export function pageTitle(path: string): string {
  const store = /^\/stores\/([^/]+)\/?$/.exec(path)
  const rollout = /^\/rollouts\/([^/]+)\/?$/.exec(path)
  if (path === '/') return 'Stores'
  if (path === '/new') return 'New store'
  if (store) return decodeURIComponent(store[1])
  if (path === '/rollouts') return 'Rollouts'
  if (rollout) return `Rollout ${decodeURIComponent(rollout[1])}`
  return 'Page not found'
}

function Layout({ me, onSignOut }: { me: Me; onSignOut: () => void }) {
  const { path } = useRouter()
  const main = useRef<HTMLElement>(null)
  useDocumentTitle(pageTitle(path))
  // Move focus to the new page's heading, as a page load would.
  useEffect(() => {
    main.current?.querySelector('h1')?.focus()
  }, [path])

  let page
  const m = /^\/stores\/([^/]+)\/?$/.exec(path)
  const ro = /^\/rollouts\/([^/]+)\/?$/.exec(path)
  if (path === '/new') page = <CreateStore />
  else if (m) page = <StorePage key={m[1]} name={decodeURIComponent(m[1])} />
  else if (path === '/rollouts') page = <Rollouts />
  else if (ro) page = <RolloutPage key={ro[1]} id={decodeURIComponent(ro[1])} />
  else if (path === '/') page = <StoreList />
  else
    page = (
      <>
        <h1 tabIndex={-1}>Page not found</h1>
        <Link to="/">Back to the stores</Link>
      </>
    )

  return (
    <>
      <a href="#main" className="skip">
        Skip to content
      </a>
      <header className="top">
        <Link to="/" className="brand">
          Store Platform
        </Link>
        <nav aria-label="Main">
          <Link to="/" nav>
            Stores
          </Link>
          <Link to="/new" nav>
            New store
          </Link>
          {me.role === 'admin' && (
            <Link to="/rollouts" nav>
              Rollouts
            </Link>
          )}
        </nav>
        <div className="who">
          <span data-testid="tenant">
            <span className="muted">Tenant</span> <strong>{me.tenant}</strong>
            {me.role === 'admin' && <span className="role">admin</span>}
          </span>
          <button type="button" onClick={onSignOut}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" ref={main} tabIndex={-1}>
        {page}
      </main>
    </>
  )
}
