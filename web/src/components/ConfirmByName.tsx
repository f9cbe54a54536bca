import { useEffect, useRef, useState, type FormEvent, type ReactNode } from 'react'

/**
 * ConfirmByName asks for the store's name to be typed before a step that
 * cannot be taken back (a deletion, a rollback). Escape or Cancel closes
 * it; the input has the focus when it opens.
 */
export function ConfirmByName(props: {
  name: string
  label: string
  inputId: string
  confirmText: string
  busy: boolean
  children: ReactNode
  onConfirm: () => void
  onCancel: () => void
}) {
  const [typed, setTyped] = useState('')
  const input = useRef<HTMLInputElement>(null)
  useEffect(() => input.current?.focus(), [])
  const submit = (e: FormEvent) => {
    e.preventDefault()
    if (typed === props.name) props.onConfirm()
  }
  return (
    <form className="confirm" onSubmit={submit} aria-label={props.label}>
      <p>{props.children}</p>
      <div className="field">
        <label htmlFor={props.inputId}>Type the store's name to confirm</label>
        <input
          id={props.inputId}
          ref={input}
          value={typed}
          autoComplete="off"
          spellCheck={false}
          onChange={(e) => setTyped(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Escape') props.onCancel()
          }}
        />
      </div>
      <div className="actions">
        <button type="submit" className="danger" disabled={typed !== props.name || props.busy}>
          {props.confirmText}
        </button>
        <button type="button" onClick={props.onCancel}>
          Cancel
        </button>
      </div>
    </form>
  )
}
