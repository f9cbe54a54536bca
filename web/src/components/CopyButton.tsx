import { useEffect, useState } from 'react'

/**
 * copyText puts text on the clipboard: navigator.clipboard where the page
 * may use it (a secure context), else the older copy command on a hidden
 * text area. It resolves false when neither works.
 */
export async function copyText(text: string): Promise<boolean> {
  try {
    if (navigator.clipboard?.writeText) {
      await navigator.clipboard.writeText(text)
      return true
    }
  } catch {
    // Refused (no permission, not focused): try the older way.
  }
  const area = document.createElement('textarea')
  area.value = text
  area.setAttribute('readonly', '')
  area.style.position = 'fixed'
  area.style.opacity = '0'
  document.body.appendChild(area)
  area.select()
  let ok = false
  try {
    ok = typeof document.execCommand === 'function' && document.execCommand('copy')
  } catch {
    ok = false
  }
  area.remove()
  return ok
}

/**
 * CopyButton copies text, and says so (or, when the browser allows no
 * copying, asks for it to be selected and copied by hand) in a live region.
 * label names what is copied: "Copy the password".
 */
export function CopyButton({ text, label }: { text: string; label: string }) {
  const [state, setState] = useState<'' | 'copied' | 'failed'>('')
  useEffect(() => {
    if (!state) return
    const t = setTimeout(() => setState(''), 4000)
    return () => clearTimeout(t)
  }, [state])
  return (
    <span className="copy">
      <button type="button" className="small" aria-label={label} onClick={() => void copyText(text).then((ok) => setState(ok ? 'copied' : 'failed'))}>
        Copy
      </button>
      <span className="copy-state" role="status">
        {state === 'copied' ? 'Copied' : state === 'failed' ? 'Copying is blocked here: select the text and copy it' : ''}
      </span>
    </span>
  )
}
