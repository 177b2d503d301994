// Who is signed in (`GET /api/v1/me`), dev login, sign-out, the notice
// area and the shortcuts dialog.

import { defineStore } from 'pinia';
import { ref, computed } from 'vue';
import { api, ApiError, setCsrf, setUnauthorizedHandler } from '../api.js';
import * as live from '../live.js';
import { t } from '../i18n.js';
import { useQueuesStore } from './queues.js';
import { useItemStore } from './item.js';
import { useThreadsStore } from './threads.js';
import { useModerationStore } from './moderation.js';

export const useSessionStore = defineStore( 'session', () => {
	/** `GET /api/v1/me`, or null when signed out. */
	const me = ref( null );
	/** Whether the first `/me` answered. */
	const authChecked = ref( false );
	/** Whether `POST /auth/dev-login` exists here. */
	const devLogin = ref( false );
	/** The message in the notice area: `{type, text, at}`. */
	const notice = ref( null );
	/** Shortcuts dialog. */
	const shortcutsOpen = ref( false );

	/** Whether the person is at least a patroller, or an admin. */
	const isPatroller = computed( () => !!me.value && ( me.value.role === 'patroller' || me.value.role === 'admin' ) );
	const isAdmin = computed( () => !!me.value && me.value.role === 'admin' );

	let noticeTimer = null;

	/** Shows a message in the notice area. */
	function notify( type, text ) {
		clearTimeout( noticeTimer );
		notice.value = { type, text, at: Date.now() };
		if ( type === 'success' || type === 'notice' ) {
			noticeTimer = setTimeout( () => {
				notice.value = null;
			}, 8000 );
		}
	}

	function clearNotice() {
		clearTimeout( noticeTimer );
		notice.value = null;
	}

	/** Reads `/api/v1/me`; true when signed in. */
	async function checkAuth() {
		try {
			const who = await api( 'GET', '/api/v1/me', undefined, { quiet401: true } );
			me.value = who;
			setCsrf( who && who.csrf );
		} catch ( e ) {
			if ( !( e instanceof ApiError ) || e.status !== 401 ) {
				// The api is down or failing: who is signed in did not change.
				authChecked.value = true;
				throw e;
			}
			me.value = null;
			setCsrf( null );
		}
		authChecked.value = true;
		return !!me.value;
	}

	/** Whether dev login is on: anything but 404 to an empty request. */
	async function probeDevLogin() {
		try {
			const res = await fetch( '/auth/dev-login', {
				method: 'POST',
				headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
				body: '{}',
				credentials: 'same-origin'
			} );
			devLogin.value = res.status !== 404;
		} catch {
			devLogin.value = false;
		}
	}

	/** Signs in with `POST /auth/dev-login`. */
	async function signInDev( username, groups ) {
		await api( 'POST', '/auth/dev-login', { username, groups } );
		await checkAuth();
	}

	/** Signs out. */
	async function signOut() {
		try {
			await api( 'POST', '/auth/logout', undefined, { quiet401: true } );
		} catch {
			// the session is gone either way
		}
		signedOut();
	}

	/** The session ended: the socket closes and what was loaded goes. */
	function signedOut() {
		live.stopLive();
		me.value = null;
		setCsrf( null );
		useQueuesStore().clearList();
		useItemStore().forget();
		useThreadsStore().leaveRoom();
		useModerationStore().forget();
	}

	setUnauthorizedHandler( () => {
		if ( me.value ) {
			signedOut();
			notify( 'warning', t( 'patrolchat-error-signed-out' ) );
		}
	} );

	return {
		me, authChecked, devLogin, notice, shortcutsOpen,
		isPatroller, isAdmin,
		notify, clearNotice, checkAuth, probeDevLogin, signInDev, signOut, signedOut
	};
} );
