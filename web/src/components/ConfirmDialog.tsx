import { useEffect, useId, useRef, type ReactNode } from 'react'

/**
 * ConfirmDialog asks once more before a step that is not a plain save (a
 * suspension, a rollout's abort): a titled alert dialog in the page with
 * the confirm and Cancel buttons. Cancel has the focus when it opens, so
 * Enter does not confirm by accident; Escape cancels; the focus goes back
 * to where it was when it closes. Steps that cannot be taken back ask for
 * the store's name instead (ConfirmByName).
 */
export function ConfirmDialog(props: {
  title: string
  confirmText: string
  busy?: boolean
  danger?: boolean
  children: ReactNode
  onConfirm: () => void
  onCancel: () => void
}) {
  const id = useId()
  const cancel = useRef<HTMLButtonElement>(null)
  useEffect(() => {
    const back = document.activeElement instanceof HTMLElement ? document.activeElement : null
    cancel.current?.focus()
    return () => {
      if (back?.isConnected) back.focus()
    }
  }, [])
  return (
    <div
      className="confirm"
      role="alertdialog"
      aria-labelledby={`${id}-title`}
      aria-describedby={`${id}-body`}
      onKeyDown={(e) => {
        if (e.key === 'Escape') props.onCancel()
      }}
    >
      <h3 id={`${id}-title`}>{props.title}</h3>
      <div id={`${id}-body`}>{props.children}</div>
      <div className="actions">
        <button
          type="button"
          className={props.danger ? 'danger' : 'primary'}
          disabled={props.busy}
          onClick={props.onConfirm}
        >
          {props.confirmText}
        </button>
        <button type="button" ref={cancel} onClick={props.onCancel}>
          Cancel
        </button>
      </div>
    </div>
  )
}
