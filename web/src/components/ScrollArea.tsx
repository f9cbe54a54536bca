import type { ReactNode } from 'react'

/**
 * ScrollArea holds a table that may be wider than a phone: it scrolls
 * sideways by itself (not the page), and takes the keyboard focus so that
 * it can be scrolled without a mouse. label names it for screen readers.
 */
export function ScrollArea({ label, className, children }: { label: string; className?: string; children: ReactNode }) {
  return (
    <div className={className ? `table-wrap ${className}` : 'table-wrap'} tabIndex={0} role="region" aria-label={label}>
      {children}
    </div>
  )
}
