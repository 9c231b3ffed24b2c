import { normalizeName, validateName } from '../shared/names.js'

const form = document.querySelector('#add-user')
const input = document.querySelector('#name')
const error = document.querySelector('#error')
const list = document.querySelector('#users')

function showError(message) {
  error.textContent = message
  error.hidden = false
}

form.addEventListener('submit', async (event) => {
  event.preventDefault()
  // Checked in the page first: a bad name never reaches the server.
  const problem = validateName(input.value)
  if (problem) {
    showError(problem)
    return
  }
  error.hidden = true
  const response = await fetch('/api/users', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: input.value }),
  })
  const body = await response.json()
  if (!response.ok) {
    showError(body.error)
    return
  }
  const item = document.createElement('li')
  item.textContent = body.name
  list.append(item)
  input.value = ''
})

document.querySelector('#preview').addEventListener('click', () => {
  const problem = validateName(input.value)
  document.querySelector('#preview-text').textContent = problem ?? normalizeName(input.value)
})
