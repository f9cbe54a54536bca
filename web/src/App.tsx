import { useCallback, useEffect, useMemo, useRef, useState } from 'react'
import { ApiClient, type Me } from './api'
import { CreateStore } from './components/CreateStore'
import { SignIn } from './components/SignIn'
import { RolloutPage, Rollouts } from './components/Rollouts'
import { StoreList } from './components/StoreList'
import { StorePage } from './components/StorePage'
import { Link, Router, useRouter } from './router'
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
  const signOut = useCallback((reason?: string) => {
    sessionStorage.removeItem(tokenKey)
    setToken('')
    setMe(null)
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
    client
      .me(ac.signal)
      .then(setMe)
      .catch(() => {}) // a 401 has signed out already
    return () => ac.abort()
  }, [client, me])

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
  if (!me) return <p role="status">Signing in…</p>
  const session: Session = { client, me }
  return (
    <SessionContext.Provider value={session}>
      <Layout me={me} onSignOut={() => signOut('You are signed out.')} />
    </SessionContext.Provider>
  )
}

function Layout({ me, onSignOut }: { me: Me; onSignOut: () => void }) {
  const { path } = useRouter()
  const main = useRef<HTMLElement>(null)
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
          <Link to="/">Stores</Link>
          <Link to="/new">New store</Link>
          {me.role === 'admin' && <Link to="/rollouts">Rollouts</Link>}
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
