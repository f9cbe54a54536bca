// A small client-side router: the API serves index.html for every page
// path, so /stores/shop can be opened, bookmarked and reloaded.
import { createContext, useCallback, useContext, useEffect, useState, type MouseEvent, type ReactNode } from 'react'

interface RouterValue {
  path: string
  search: URLSearchParams
  navigate: (to: string, opts?: { replace?: boolean }) => void
}

const RouterContext = createContext<RouterValue>({
  path: '/',
  search: new URLSearchParams(),
  navigate: () => {},
})

export function Router({ children }: { children: ReactNode }) {
  const [loc, setLoc] = useState(() => ({ path: window.location.pathname, search: window.location.search }))
  useEffect(() => {
    const onPop = () => setLoc({ path: window.location.pathname, search: window.location.search })
    window.addEventListener('popstate', onPop)
    return () => window.removeEventListener('popstate', onPop)
  }, [])
  const navigate = useCallback((to: string, opts?: { replace?: boolean }) => {
    if (opts?.replace) window.history.replaceState(null, '', to)
    else window.history.pushState(null, '', to)
    setLoc({ path: window.location.pathname, search: window.location.search })
  }, [])
  return (
    <RouterContext.Provider value={{ path: loc.path, search: new URLSearchParams(loc.search), navigate }}>
      {children}
    </RouterContext.Provider>
  )
}

export function useRouter(): RouterValue {
  return useContext(RouterContext)
}

/**
 * Link is an <a> that navigates without reloading the page. nav marks it as
 * a link of the main navigation: aria-current="page" while its page is open.
 */
export function Link({ to, children, className, nav }: { to: string; children: ReactNode; className?: string; nav?: boolean }) {
  const { navigate, path } = useRouter()
  const onClick = (e: MouseEvent<HTMLAnchorElement>) => {
    if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return
    e.preventDefault()
    navigate(to)
  }
  return (
    <a href={to} onClick={onClick} className={className} aria-current={nav && path === to ? 'page' : undefined}>
      {children}
    </a>
  )
}

/** useDocumentTitle names the browser tab after the page: "shop · Store Platform". */
export function useDocumentTitle(page: string) {
  useEffect(() => {
    document.title = page ? `${page} · Store Platform` : 'Store Platform'
  }, [page])
}
