// The signed-in session: the API token (kept in sessionStorage only, so it
// ends with the tab and is cleared on sign-out), the caller, and the client.
import { createContext, useContext } from 'react'
import type { ApiClient, Me } from './api'

export const tokenKey = 'storeplatform.token'

export interface Session {
  /** client signs the session out when the API answers 401. */
  client: ApiClient
  me: Me
}

export const SessionContext = createContext<Session | null>(null)

export function useSession(): Session {
  const s = useContext(SessionContext)
  if (!s) throw new Error('useSession outside a signed-in session')
  return s
}
