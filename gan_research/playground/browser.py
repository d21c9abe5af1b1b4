"""Driving the playground page in headless Chromium (Debian's chromium and chromium-driver)
through selenium: the browser test uses it, and it takes the screenshot of docs/playground.md.

python -m gan_research.playground.browser --out=docs/playground.png
starts a server on a free port, runs bimodal + tanh for 2,000 steps in the page and saves a
screenshot of the finished page. Needs `pip install -r requirements-test.txt` (selenium) and
`apt-get install chromium chromium-driver`.
"""
import contextlib
import shutil
import tempfile
import threading

from absl import app, flags

CHROMIUM_FLAGS = ('--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
                  '--no-first-run', '--disable-background-networking',
                  '--disable-component-update', '--disable-sync', '--window-size=1200,720')


def missing():
  """Why the browser cannot run here (None when it can)."""
  try:
    import selenium  # pylint: disable=import-outside-toplevel,unused-import
  except ImportError:
    return 'selenium is not installed: pip install -r requirements-test.txt'
  for program, package in (('chromium', 'chromium'), ('chromedriver', 'chromium-driver')):
    if shutil.which(program) is None:
      return f'{program} is not installed: apt-get install -y {package}'
  return None


@contextlib.contextmanager
def chromium():
  """A headless Chromium WebDriver with a fresh profile; raises RuntimeError saying what is
  missing where it cannot start."""
  reason = missing()
  if reason:
    raise RuntimeError(reason)
  # pylint: disable=import-outside-toplevel
  from selenium import webdriver
  from selenium.webdriver.chrome.service import Service
  with tempfile.TemporaryDirectory() as profile:
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which('chromium')
    for flag in CHROMIUM_FLAGS + (f'--user-data-dir={profile}',):
      options.add_argument(flag)
    driver = webdriver.Chrome(options=options,
                              service=Service(executable_path=shutil.which('chromedriver')))
    try:
      yield driver
    finally:
      driver.quit()


@contextlib.contextmanager
def serving(save_dir):
  """A playground server on a free port of 127.0.0.1, in a thread; yields its URL."""
  from gan_research.playground import server  # pylint: disable=import-outside-toplevel
  httpd = server.make_server('127.0.0.1', 0, save_dir)
  thread = threading.Thread(target=httpd.serve_forever, daemon=True)
  thread.start()
  try:
    yield f'http://127.0.0.1:{httpd.server_address[1]}/', httpd
  finally:
    httpd.shutdown()
    httpd.server_close()


def fill(driver, settings: dict):
  """Sets the page's form fields (menus by value, text fields by typing)."""
  # pylint: disable=import-outside-toplevel
  from selenium.webdriver.common.by import By
  from selenium.webdriver.support.ui import Select
  for name, value in settings.items():
    element = driver.find_element(By.ID, name)
    if element.tag_name == 'select':
      Select(element).select_by_value(str(value).lower() if isinstance(value, bool)
                                      else str(value))
    else:
      element.clear()
      element.send_keys(str(value))


def open_page(driver, url, timeout=30):
  """Loads the page and waits for its menus to be filled from /api/options."""
  # pylint: disable=import-outside-toplevel
  from selenium.webdriver.common.by import By
  from selenium.webdriver.support.ui import WebDriverWait
  driver.get(url)
  WebDriverWait(driver, timeout).until(
      lambda d: d.find_elements(By.CSS_SELECTOR, '#data option'))


def run_in_page(driver, settings: dict, timeout=300):
  """Fills the form, presses Run and waits for the run to end; returns #status's status,
  #result's text and its data-covered / data-modes, and #error's text."""
  # pylint: disable=import-outside-toplevel
  from selenium.webdriver.common.by import By
  from selenium.webdriver.support.ui import WebDriverWait
  fill(driver, settings)
  driver.find_element(By.ID, 'run').click()

  def ended(d):
    status = d.find_element(By.ID, 'status').get_attribute('data-status')
    error = d.find_element(By.ID, 'error').text
    return error or status in ('done', 'stopped', 'error')

  WebDriverWait(driver, timeout, poll_frequency=0.1).until(ended)
  result = driver.find_element(By.ID, 'result')
  if driver.find_element(By.ID, 'status').get_attribute('data-status') == 'done':
    WebDriverWait(driver, 10).until(lambda d: result.get_attribute('data-covered'))
  return {'status': driver.find_element(By.ID, 'status').get_attribute('data-status'),
          'result': result.text, 'covered': result.get_attribute('data-covered'),
          'modes': result.get_attribute('data-modes'),
          'error': driver.find_element(By.ID, 'error').text}


def main(argv):
  del argv
  out = flags.FLAGS.out
  with tempfile.TemporaryDirectory() as save_dir, serving(save_dir) as (url, _), \
      chromium() as driver:
    open_page(driver, url)
    print(run_in_page(driver, {'data': 'bimodal', 'activation': 'tanh', 'steps': 2000}))
    driver.save_screenshot(out)
  print(f'Wrote {out}')


if __name__ == '__main__':
  # Defined only when run as a program: the tests import this module beside others that define
  # flags of the same name, which absl refuses.
  flags.DEFINE_string('out', 'docs/playground.png', 'Where to write the screenshot.')
  app.run(main)
