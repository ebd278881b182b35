// Login/logout flow shared by the dashboard and the operator page. Each page has a
// #login-view with #login-form and an #app-view; the header shows who is signed in.

import { ApiError, api, clearToken, errorMessage, freshToken, login, logout, onUnauthorized } from './api.js';
import { $ } from './dom.js';
import { t } from './i18n.js';

export function setupSession({ onSignedIn, onSignedOut }) {
  const loginView = $('#login-view');
  const appView = $('#app-view');
  const form = $('#login-form');
  const message = $('#login-message');
  const submit = $('[data-testid="login-submit"]');
  const userBox = $('#user-box');
  const userName = $('#user-name');
  const logoutButton = $('#logout-button');
  let signedIn = false;

  function showMessage(key, text) {
    message.dataset.i18nKey = key || '';
    message.dataset.kind = key === 'login.signed_out' ? 'info' : 'error';
    message.textContent = text || (key ? t(key) : '');
  }

  // reasonKey explains why the form is back (expired session, sign-out); the username field then
  // takes focus so keyboard and screen-reader users land on the form.
  function showLogin(reasonKey) {
    const wasSignedIn = signedIn;
    signedIn = false;
    appView.hidden = true;
    loginView.hidden = false;
    userBox.hidden = true;
    showMessage(reasonKey);
    if (wasSignedIn) onSignedOut();
    if (reasonKey) $('[data-testid="login-username"]').focus();
  }

  // fromForm: signed in with the form, which disappears; a session carried over from before (a
  // reload) leaves the focus where the page starts, so the first Tab still reaches the skip link.
  async function enter({ fromForm = false } = {}) {
    let me;
    try {
      me = await api('/me');
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) showLogin('login.expired');
      else {
        showLogin();
        showMessage(null, errorMessage(error));
      }
      return;
    }
    signedIn = true;
    loginView.hidden = true;
    appView.hidden = false;
    userBox.hidden = false;
    userName.textContent = me && me.username ? me.username : '';
    showMessage();
    onSignedIn(me || {});
    // The form just disappeared: continue from the top of the page content.
    if (fromForm) $('#main').focus({ preventScroll: true });
  }

  onUnauthorized(() => {
    if (signedIn) showLogin('login.expired');
  });

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const username = form.elements.username.value.trim();
    const password = form.elements.password.value;
    if (!username || !password) {
      showMessage('login.missing');
      return;
    }
    submit.disabled = true;
    form.setAttribute('aria-busy', 'true');
    try {
      await login(username, password);
      form.elements.password.value = '';
      await enter({ fromForm: true });
    } catch (error) {
      if (error instanceof ApiError && (error.status === 400 || error.status === 401)) {
        showMessage('login.failed');
      } else {
        showMessage(null, errorMessage(error));
      }
    } finally {
      submit.disabled = false;
      form.removeAttribute('aria-busy');
    }
  });

  logoutButton.addEventListener('click', async () => {
    await logout();
    showLogin('login.signed_out');
  });

  return {
    // A token of this tab, or a session the refresh cookie still holds, signs the page in.
    async start() {
      if (await freshToken()) enter();
      else showLogin();
    },
    // Called when the token is rejected outside the api() helper (the live stream).
    expire() {
      clearToken();
      if (signedIn) showLogin('login.expired');
    },
    // Re-translate a message that came from the dictionary after a language switch.
    retranslate() {
      if (message.dataset.i18nKey) message.textContent = t(message.dataset.i18nKey);
    },
  };
}
