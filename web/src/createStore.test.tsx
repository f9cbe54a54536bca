import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { ApiClient, ApiError } from './api'
import { CreateStore, serverErrors } from './components/CreateStore'
import { Router } from './router'
import { SessionContext } from './session'
import { MsgNameFormat, MsgNameReserved } from './validation'

afterEach(cleanup)

function renderForm(fetchImpl: typeof fetch) {
  const client = new ApiClient('t', fetchImpl)
  render(
    <SessionContext.Provider value={{ client, me: { tenant: 'acme', role: 'tenant', tokenId: 'x' } }}>
      <Router>
        <CreateStore />
      </Router>
    </SessionContext.Provider>,
  )
}

const problem = (status: number, body: object) =>
  new Response(JSON.stringify({ status, ...body }), { status, headers: { 'Content-Type': 'application/problem+json' } })

describe('serverErrors', () => {
  it.each<[string, ApiError, object]>([
    [
      'field errors go on their fields, unknown ones on the form',
      new ApiError({ status: 400, type: 'x/validation', title: 'Invalid request', fields: { name: 'is reserved', host: 'bad' } }),
      { fields: { name: 'is reserved' }, form: 'host bad' },
    ],
    [
      'a conflict goes on the name',
      new ApiError({ status: 409, type: 'https://storeplatform.io/problems/conflict', title: 'Conflict', detail: 'the name is taken' }),
      { fields: { name: 'the name is taken' }, form: '' },
    ],
    [
      'anything else is for the form',
      new ApiError({ status: 409, type: 'https://storeplatform.io/problems/store-limit-reached', title: 'Store limit reached', detail: '5 stores' }),
      { fields: {}, form: 'Store limit reached: 5 stores' },
    ],
  ])('%s', (_, err, want) => {
    expect(serverErrors(err)).toEqual(want)
  })
})

describe('CreateStore', () => {
  it('checks the name before sending, with the API message', async () => {
    const fetchImpl = vi.fn()
    renderForm(fetchImpl as unknown as typeof fetch)
    fireEvent.change(screen.getByLabelText('Name'), { target: { value: 'Bad_Name' } })
    fireEvent.click(screen.getByRole('button', { name: 'Create store' }))
    const name = screen.getByLabelText('Name')
    expect(name.getAttribute('aria-invalid')).toBe('true')
    expect(document.getElementById('name-error')?.textContent).toBe(`Name ${MsgNameFormat}`)
    expect(name.getAttribute('aria-describedby')).toContain('name-error')
    expect(document.activeElement).toBe(name)
    expect(fetchImpl).not.toHaveBeenCalled()
  })

  it('shows the Medusa image field only for Medusa', () => {
    renderForm(vi.fn() as unknown as typeof fetch)
    expect(screen.queryByLabelText('Medusa image')).toBeNull()
    fireEvent.click(screen.getByLabelText(/Medusa/, { selector: 'input[type=radio]' }))
    expect(screen.getByLabelText('Medusa image')).toBeTruthy()
  })

  it("puts the server's field errors on the fields", async () => {
    const fetchImpl = vi.fn(async () =>
      problem(400, {
        type: 'https://storeplatform.io/problems/validation',
        title: 'Invalid request',
        errors: [{ field: 'name', message: MsgNameReserved }],
      }),
    )
    renderForm(fetchImpl as unknown as typeof fetch)
    // "shop" passes the form's checks; the server still refuses it here.
    fireEvent.change(screen.getByLabelText('Name'), { target: { value: 'shop' } })
    fireEvent.click(screen.getByRole('button', { name: 'Create store' }))
    await waitFor(() => expect(document.getElementById('name-error')?.textContent).toBe(`Name ${MsgNameReserved}`))
    expect(fetchImpl).toHaveBeenCalledTimes(1)
  })
})
