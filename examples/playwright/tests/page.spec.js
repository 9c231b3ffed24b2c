import { expect, test } from 'server-coverage/playwright'

test('adds a user through the page', async ({ page }) => {
  await page.goto('/')
  await page.getByLabel('Name').fill('grace   hopper')
  await page.getByRole('button', { name: 'Add' }).click()
  await expect(page.getByRole('listitem')).toHaveText(['Grace Hopper'])
})

test('the page rejects a short name without asking the server', async ({ page }) => {
  await page.goto('/')
  await page.getByLabel('Name').fill('x')
  await page.getByRole('button', { name: 'Add' }).click()
  await expect(page.getByRole('alert')).toHaveText('name is too short')
})

test('previews the normalized name', async ({ page }) => {
  await page.goto('/')
  await page.getByLabel('Name').fill('barbara LISKOV')
  await page.getByRole('button', { name: 'Preview' }).click()
  await expect(page.locator('#preview-text')).toHaveText('Barbara Liskov')
})
