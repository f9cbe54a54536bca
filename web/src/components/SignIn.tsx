import { useState, type FormEvent } from 'react'
import { ApiClient, ApiError, type Me } from '../api'
import { useDocumentTitle } from '../router'

export function SignIn({
  onSignedIn,
  notice,
  fetchImpl,
}: {
  onSignedIn: (token: string, me: Me) => void
  notice?: string
  fetchImpl?: typeof fetch
}) {
  const [token, setToken] = useState('')
  const [error, setError] = useState('')
  const [busy, setBusy] = useState(false)
  useDocumentTitle('Sign in')

  const submit = async (e: FormEvent) => {
    e.preventDefault()
    const t = token.trim()
    if (!t) {
      setError('Enter your API token.')
      return
    }
    setBusy(true)
    setError('')
    try {
      const me = await new ApiClient(t, fetchImpl).me()
      onSignedIn(t, me)
    } catch (err) {
      const e = err as ApiError
      setError(e.status === 401 ? 'This token is invalid or revoked.' : e.message)
    } finally {
      setBusy(false)
    }
  }

  return (
    <main id="main" className="signin" tabIndex={-1}>
      <form onSubmit={submit} className="card" noValidate aria-labelledby="signin-title">
        <h1 id="signin-title">Sign in to Store Platform</h1>
        {notice && (
          <p className="notice" role="status">
            {notice}
          </p>
        )}
        <div className="field">
          <label htmlFor="token">API token</label>
          <input
            id="token"
            name="token"
            type="password"
            autoComplete="off"
            spellCheck={false}
            value={token}
            onChange={(e) => setToken(e.target.value)}
            aria-invalid={error ? true : undefined}
            aria-describedby={error ? 'token-error token-help' : 'token-help'}
          />
          <p id="token-help" className="help">
            A token from <code>storeplatform token create</code> (or printed by <code>make dev</code>). It is kept in
            this tab only.
          </p>
          {error && (
            <p id="token-error" className="error" role="alert">
              {error}
            </p>
          )}
        </div>
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  )
}
