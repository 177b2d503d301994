// Who is signed in (`GET /api/v1/me`), dev login, sign-out, the notice
// area and the shortcuts dialog.

import { defineStore } from 'pinia';
import { ref, computed, watch } from 'vue';
import { api, ApiError, seg, setCsrf, setUnauthorizedHandler } from '../api.js';
import * as live from '../live.js';
import { t, locale, setLanguage, storedLanguage } from '../i18n.js';
import { noteGender } from '../genders.js';
import { loadKeys } from '../keymap.js';
import { errorText } from '../errors.js';
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
	/** Shortcuts dialog. */
	const shortcutsOpen = ref( false );
	// The person's own keys, kept under their name.
	watch( () => me.value && me.value.name, ( name ) => loadKeys( name ), { immediate: true } );

	/**
	 * Whether the person is at least a patroller, or an admin, on some
	 * wiki (`role` is their highest role on any wiki); what they may do on
	 * a given wiki is `roleOn( wiki )`.
	 */
	const isPatroller = computed( () => !!me.value && ( me.value.role === 'patroller' || me.value.role === 'admin' ) );
	const isAdmin = computed( () => !!me.value && me.value.role === 'admin' );

	/** The wikis whose standing has been asked for, by name: `[{wiki, role, groups, blocked}]`. */
	const wikiRoles = computed( () => {
		const w = ( me.value && me.value.wikis ) || {};
		return Object.keys( w ).sort().map( ( wiki ) => ( {
			wiki,
			role: w[ wiki ] && w[ wiki ].role,
			groups: ( w[ wiki ] && Array.isArray( w[ wiki ].groups ) ) ? w[ wiki ].groups : [],
			blocked: !!( w[ wiki ] && w[ wiki ].blocked )
		} ) );
	} );
	const globalGroups = computed( () => ( me.value && Array.isArray( me.value.global_groups ) ? me.value.global_groups : [] ) );

	/** The person's role on a wiki, when known. */
	function roleOn( wiki ) {
		const w = me.value && me.value.wikis && me.value.wikis[ wiki ];
		return ( w && w.role ) || null;
	}

	/** Records what the api said of the person's standing on a wiki. */
	function noteStanding( wiki, standing ) {
		if ( !me.value || !wiki || !standing ) {
			return;
		}
		const wikis = me.value.wikis || {};
		me.value.wikis = { ...wikis, [ wiki ]: { ...( wikis[ wiki ] || {} ), ...standing } };
	}

	const asked = new Set();

	/** Reads the person's standing on a wiki (`/api/v1/me/wikis/{wiki}`), once a page. */
	async function loadStanding( wiki ) {
		if ( !me.value || !wiki || asked.has( wiki ) ) {
			return;
		}
		asked.add( wiki );
		try {
			const s = await api( 'GET', `/api/v1/me/wikis/${ seg( wiki ) }` );
			if ( s && typeof s === 'object' ) {
				const { role, groups, blocked, block_until: until, block_reason: reason, checked_at: at } = s;
				noteStanding( wiki, { role, groups, blocked, block_until: until, block_reason: reason, checked_at: at } );
			}
		} catch {
			asked.delete( wiki );
		}
	}

	/**
	 * Whether the person accepted a wiki's code of conduct: null when the
	 * api does not say.
	 */
	function acceptedConduct( wiki ) {
		const c = me.value && me.value.conduct;
		if ( !c || typeof c !== 'object' ) {
			return null;
		}
		return Object.prototype.hasOwnProperty.call( c, wiki );
	}

	/**
	 * The notices shown, oldest first (a small stack): `{key, type, text,
	 * at, link?, mention?}`. Successes and plain notices go after 8 s; a
	 * mention, a warning or an error stays until it is read (dismissed, or
	 * its link followed).
	 */
	const notices = ref( [] );
	/** The newest notice. */
	const notice = computed( () => notices.value[ notices.value.length - 1 ] || null );
	/** Mentions not read yet. */
	const unreadMentions = computed( () => notices.value.filter( ( n ) => n.mention ).length );
	let noticeSeq = 0;

	/** Notices at most on screen; the oldest that is not a mention goes first. */
	const MAX_NOTICES = 4;

	function dismiss( key ) {
		notices.value = notices.value.filter( ( n ) => n.key !== key );
	}

	/**
	 * Shows a message in the notice area. `extra`: `link` (`{href, text,
	 * go}`: a link in the notice, `go` following it in the page), `mention`
	 * (a message id: counted as unread until read).
	 */
	function notify( type, text, extra = {} ) {
		const key = ++noticeSeq;
		// The same text again replaces its older copy rather than stacking.
		let next = notices.value.filter( ( n ) => !( n.text === text && n.type === type ) );
		// The language it was written in, which it keeps when the interface's changes.
		next.push( { key, type, text, lang: locale.value, at: Date.now(), link: extra.link || null, mention: extra.mention || null } );
		while ( next.length > MAX_NOTICES ) {
			const drop = next.findIndex( ( n ) => !n.mention );
			next.splice( drop === -1 ? 0 : drop, 1 );
		}
		notices.value = next;
		if ( ( type === 'success' || type === 'notice' ) && !extra.mention ) {
			setTimeout( () => dismiss( key ), 8000 );
		}
		return key;
	}

	/** Takes away the notices that are not mentions (a claim that went through). */
	function clearNotice() {
		notices.value = notices.value.filter( ( n ) => n.mention );
	}

	/** The mentions of messages of an item (or the messages named) are read. */
	function mentionsRead( ids ) {
		const read = new Set( ids );
		notices.value = notices.value.filter( ( n ) => !n.mention || !read.has( n.mention ) );
	}

	/** Reads `/api/v1/me`; true when signed in. */
	async function checkAuth() {
		try {
			const who = await api( 'GET', '/api/v1/me', undefined, { quiet401: true } );
			me.value = who;
			setCsrf( who && who.csrf );
			if ( who && who.name ) {
				noteGender( who.name, who.gender );
				followLanguage( who );
			}
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

	/**
	 * The person's language is kept with them, the same on every device:
	 * the one they chose (on any device) wins over this browser's, unless
	 * the page was opened with `?uselang=`; a choice made here before
	 * signing in is kept for them.
	 */
	function followLanguage( who ) {
		if ( new URLSearchParams( location.search ).has( 'uselang' ) ) {
			return;
		}
		if ( typeof who.language === 'string' && who.language ) {
			if ( who.language !== locale.value ) {
				setLanguage( who.language, true ).catch( () => {} );
			}
		} else if ( !who.bot && storedLanguage() ) {
			saveLanguage( storedLanguage() );
		}
	}

	/** Keeps the language with the person (`PUT /api/v1/me/preferences`). */
	async function saveLanguage( code ) {
		if ( !me.value ) {
			return;
		}
		try {
			await api( 'PUT', '/api/v1/me/preferences', { language: code } );
			me.value = { ...me.value, language: code };
		} catch ( e ) {
			notify( 'warning', t( 'patrolchat-language-save-failed', errorText( e ) ) );
		}
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
		asked.clear();
		me.value = null;
		setCsrf( null );
		notices.value = [];
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
		me, authChecked, devLogin, notice, notices, unreadMentions, shortcutsOpen,
		isPatroller, isAdmin, wikiRoles, globalGroups,
		roleOn, noteStanding, loadStanding, acceptedConduct,
		notify, dismiss, clearNotice, mentionsRead, checkAuth, probeDevLogin, signInDev, signOut, signedOut, saveLanguage
	};
} );
