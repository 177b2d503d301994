// The app's state and everything that changes it: HTTP loads, live frames,
// and the person's actions (claim, release, resolve, escalate, post).
//
// The item list can hold thousands of rows, so it is a shallowRef of plain,
// immutable row objects: a change replaces the row and the array, and only
// the rows on screen re-render.

import { reactive, ref, shallowRef, computed } from 'vue';
import { api, ApiError, seg, setCsrf, setUnauthorizedHandler } from './api.js';
import * as live from './live.js';
import { route, go } from './router.js';
import { t, timeOfDay } from './i18n.js';
import { insertionIndex, compareItems } from './text.js';

/** How long a resolved row stays on screen, saying who resolved it. */
export const RESOLVED_LINGER_MS = 3000;
/** How long a new row is marked as new (its slide-in). */
const FRESH_MS = 1500;
/** Items loaded at most per workflow. */
const MAX_ITEMS = 20000;
/** Renew a held claim when less than this is left. */
const RENEW_BEFORE_MS = 60000;
/** Lag above which the feed counts as lagging. */
export const LAGGING_MS = 10000;

/** The clock the interface ticks with (lease countdowns, ages). */
export const now = ref( Date.now() );
setInterval( () => {
	now.value = Date.now();
}, 1000 );

export const state = reactive( {
	/** `GET /api/v1/me`, or null when signed out. */
	me: null,
	/** Whether the first `/me` answered. */
	authChecked: false,
	/** Whether `POST /auth/dev-login` exists here. */
	devLogin: false,
	/** Workflows with counts: `[{name, title, kind, open, claimed, wikis: [...]}]`. */
	workflows: [],
	workflowsLoaded: false,
	/** The last `feed.status` frame. */
	feed: { known: false, connected: false, lag_ms: null, last_event_at: null },
	/** The message in the notice area: `{type, text}`. */
	notice: null,
	/** Shortcuts dialog. */
	shortcutsOpen: false
} );

export const list = reactive( {
	wf: null,
	loading: false,
	error: null,
	/** Index of the keyboard cursor in `visibleRows`. */
	cursor: 0
} );

export const filters = reactive( { wiki: '', namespace: '', performer: '' } );

/** Rows of the selected workflow, in queue order. */
export const rows = shallowRef( [] );

export const visibleRows = computed( () => {
	const { wiki, namespace, performer } = filters;
	if ( !wiki && namespace === '' && !performer ) {
		return rows.value;
	}
	return rows.value.filter( ( r ) =>
		( !wiki || r.item.wiki === wiki ) &&
		( namespace === '' || String( r.item.namespace ) === namespace ) &&
		( !performer || r.item.performer === performer )
	);
} );

export const current = reactive( {
	id: null,
	/** `{item, state, resolved_by, outcome, claim}` */
	detail: null,
	loading: false,
	error: null,
	messages: [],
	viewers: [],
	/** `resolve`, `escalate` or null: the open form. */
	form: null,
	busy: false
} );

export const room = reactive( { wf: null, messages: [], loading: false, error: null } );

const claimHolders = new Map(); // item id → holder, as far as this page knows
let listGen = 0;
let listBuffer = null; // frames that arrived while the list was loading
let itemGen = 0;

// ---------------------------------------------------------------- notices

let noticeTimer = null;

/** Shows a message in the notice area. */
export function notify( type, text ) {
	clearTimeout( noticeTimer );
	state.notice = { type, text, at: Date.now() };
	if ( type === 'success' || type === 'notice' ) {
		noticeTimer = setTimeout( () => {
			state.notice = null;
		}, 8000 );
	}
}

export function clearNotice() {
	clearTimeout( noticeTimer );
	state.notice = null;
}

/** A person-readable text for a failed request. */
export function errorText( e ) {
	if ( !( e instanceof ApiError ) ) {
		return t( 'patrolchat-error-generic', String( e && e.message || e ) );
	}
	const err = ( e.body && e.body.error ) || {};
	switch ( e.code ) {
		case 'claimed': {
			const holder = err.holder || ( e.body && e.body.holder ) || '?';
			return err.expires_at ?
				t( 'patrolchat-claimed-by-until', holder, timeOfDay( err.expires_at ) ) :
				t( 'patrolchat-claimed-by', holder );
		}
		case 'network': return t( 'patrolchat-error-network' );
		case 'rate_limited': return t( 'patrolchat-error-rate-limited', err.retry_after_s || 1 );
		case 'forbidden': return t( 'patrolchat-error-forbidden', err.message || '' );
		case 'unauthenticated': return t( 'patrolchat-error-signed-out' );
		case 'csrf': return t( 'patrolchat-error-csrf' );
		case 'wiki_refused': return t( 'patrolchat-error-wiki-refused', err.message || '' );
		case 'wiki_unavailable': return t( 'patrolchat-error-wiki-unavailable' );
		case 'muted': {
			const msg = String( err.message || '' );
			const cut = msg.indexOf( ': ' );
			const why = err.reason || ( cut !== -1 ? msg.slice( cut + 2 ) : msg );
			return err.until ?
				t( 'patrolchat-error-muted-until', timeOfDay( err.until ), why ) :
				t( 'patrolchat-error-muted', why );
		}
		case 'blocked':
			if ( !err.reason ) {
				return t( 'patrolchat-error-blocked-unknown' );
			}
			return err.until ?
				t( 'patrolchat-error-blocked-until', timeOfDay( err.until ), err.reason ) :
				t( 'patrolchat-error-blocked', err.reason );
		case 'unavailable':
		case 'timeout':
			return t( 'patrolchat-error-unavailable' );
		default:
			return t( 'patrolchat-error-generic', err.message || e.message );
	}
}

// ------------------------------------------------------------------ auth

/** Reads `/api/v1/me`; true when signed in. */
export async function checkAuth() {
	try {
		const me = await api( 'GET', '/api/v1/me', undefined, { quiet401: true } );
		state.me = me;
		setCsrf( me && me.csrf );
	} catch ( e ) {
		if ( !( e instanceof ApiError ) || e.status !== 401 ) {
			// The api is down or failing: who is signed in did not change.
			state.authChecked = true;
			throw e;
		}
		state.me = null;
		setCsrf( null );
	}
	state.authChecked = true;
	return !!state.me;
}

/** Whether dev login is on: anything but 404 to an empty request. */
export async function probeDevLogin() {
	try {
		const res = await fetch( '/auth/dev-login', {
			method: 'POST',
			headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
			body: '{}',
			credentials: 'same-origin'
		} );
		state.devLogin = res.status !== 404;
	} catch {
		state.devLogin = false;
	}
}

/** Signs in with `POST /auth/dev-login`. */
export async function devLogin( username, groups ) {
	await api( 'POST', '/auth/dev-login', { username, groups } );
	await checkAuth();
}

/** Signs out. */
export async function signOut() {
	try {
		await api( 'POST', '/auth/logout', undefined, { quiet401: true } );
	} catch {
		// the session is gone either way
	}
	signedOut();
}

function signedOut() {
	live.stopLive();
	state.me = null;
	setCsrf( null );
	rows.value = [];
	list.wf = null;
	current.id = null;
	current.detail = null;
	room.wf = null;
	mod.ignores = [];
	mod.dialog = null;
}

setUnauthorizedHandler( () => {
	if ( state.me ) {
		signedOut();
		notify( 'warning', t( 'patrolchat-error-signed-out' ) );
	}
} );

/** Whether the person is at least a patroller, or an admin. */
export const isPatroller = computed( () => !!state.me && ( state.me.role === 'patroller' || state.me.role === 'admin' ) );
export const isAdmin = computed( () => !!state.me && state.me.role === 'admin' );

// -------------------------------------------------------------- workflows

export async function loadWorkflows() {
	const wfs = await api( 'GET', '/api/v1/workflows' );
	state.workflows = Array.isArray( wfs ) ? wfs : [];
	state.workflowsLoaded = true;
}

export function workflowOf( name ) {
	return state.workflows.find( ( w ) => w.name === name ) || null;
}

export const escalationWorkflows = computed( () => state.workflows.filter( ( w ) => w.kind === 'escalation' ) );

function bump( wfName, wiki, dOpen, dClaimed ) {
	const wf = workflowOf( wfName );
	if ( !wf || !wiki ) {
		return;
	}
	let w = wf.wikis.find( ( x ) => x.wiki === wiki );
	if ( !w ) {
		if ( dOpen <= 0 ) {
			return;
		}
		w = { wiki, open: 0, claimed: 0 };
		wf.wikis.push( w );
		wf.wikis.sort( ( a, b ) => ( a.wiki < b.wiki ? -1 : 1 ) );
		w = wf.wikis.find( ( x ) => x.wiki === wiki );
	}
	w.open = Math.max( 0, w.open + dOpen );
	w.claimed = Math.max( 0, Math.min( w.open, w.claimed + dClaimed ) );
	wf.open = wf.wikis.reduce( ( s, x ) => s + x.open, 0 );
	wf.claimed = wf.wikis.reduce( ( s, x ) => s + x.claimed, 0 );
}

// ------------------------------------------------------------------ list

function toRow( view ) {
	return Object.freeze( {
		id: view.item.id,
		item: Object.freeze( view.item ),
		claim: view.claim || null,
		resolved: null,
		fresh: false
	} );
}

function replaceRow( id, fn ) {
	const arr = rows.value;
	const i = arr.findIndex( ( r ) => r.id === id );
	if ( i === -1 ) {
		return false;
	}
	const next = arr.slice();
	const row = fn( arr[ i ] );
	if ( row ) {
		next[ i ] = Object.freeze( row );
	} else {
		next.splice( i, 1 );
	}
	rows.value = next;
	return true;
}

export function rowOf( id ) {
	return rows.value.find( ( r ) => r.id === id ) || null;
}

/** Loads every open item of a workflow (pages of 500). */
export async function loadList( wf, { keepCursor = false } = {} ) {
	const gen = ++listGen;
	if ( list.wf !== wf ) {
		rows.value = [];
		list.cursor = 0;
	}
	list.wf = wf;
	list.loading = true;
	list.error = null;
	listBuffer = [];
	const out = [];
	try {
		let cursor = null;
		do {
			const q = `limit=500${ cursor ? `&cursor=${ encodeURIComponent( cursor ) }` : '' }`;
			const page = await api( 'GET', `/api/v1/workflows/${ seg( wf ) }/items?${ q }` );
			if ( gen !== listGen ) {
				return;
			}
			for ( const v of page.items || [] ) {
				if ( v && v.item && v.item.id ) {
					out.push( toRow( v ) );
					if ( v.claim ) {
						claimHolders.set( v.item.id, v.claim.holder );
					}
				}
			}
			cursor = page.next || null;
		} while ( cursor && out.length < MAX_ITEMS );
	} catch ( e ) {
		if ( gen === listGen ) {
			list.loading = false;
			list.error = errorText( e );
			listBuffer = null;
		}
		return;
	}
	if ( gen !== listGen ) {
		return;
	}
	rows.value = out;
	list.loading = false;
	const buffered = listBuffer || [];
	listBuffer = null;
	for ( const f of buffered ) {
		applyToList( f );
	}
	if ( !keepCursor ) {
		list.cursor = Math.min( list.cursor, Math.max( 0, visibleRows.value.length - 1 ) );
	}
}

function applyToList( f ) {
	if ( listBuffer ) {
		listBuffer.push( f );
		return;
	}
	const wf = list.wf;
	switch ( f.type ) {
		case 'item.new':
		case 'item.updated': {
			const item = f.item;
			if ( !item || !Array.isArray( item.workflows ) || !item.workflows.includes( wf ) ) {
				return;
			}
			const arr = rows.value;
			const i = arr.findIndex( ( r ) => r.id === item.id );
			if ( i !== -1 ) {
				const old = arr[ i ];
				const next = arr.slice();
				next.splice( i, 1 );
				const row = Object.freeze( { ...old, item: Object.freeze( item ) } );
				next.splice( insertionIndex( next, item ), 0, row );
				rows.value = next;
				return;
			}
			if ( f.type === 'item.updated' ) {
				return;
			}
			const row = Object.freeze( { id: item.id, item: Object.freeze( item ), claim: null, resolved: null, fresh: true } );
			const next = arr.slice();
			next.splice( insertionIndex( next, item ), 0, row );
			rows.value = next;
			setTimeout( () => replaceRow( item.id, ( r ) => ( r.fresh ? { ...r, fresh: false } : r ) ), FRESH_MS );
			return;
		}
		case 'item.claimed':
			replaceRow( f.item, ( r ) => ( { ...r, claim: { holder: f.holder, expires_at: f.expires_at } } ) );
			return;
		case 'item.released':
			replaceRow( f.item, ( r ) => ( r.claim && r.claim.holder === f.holder ? { ...r, claim: null } : r ) );
			return;
		case 'item.resolved': {
			const by = f.by && f.by.name ? f.by.name : '?';
			const found = replaceRow( f.item, ( r ) => ( { ...r, claim: null, resolved: { by, outcome: f.outcome } } ) );
			if ( found ) {
				setTimeout( () => replaceRow( f.item, ( r ) => ( r.resolved ? null : r ) ), RESOLVED_LINGER_MS );
			}
			return;
		}
	}
}

// ------------------------------------------------------------------ item

function tokenKey( id ) {
	return `patrolchat.claim.${ id }`;
}

/** The fencing token of this person's claim on an item, if they hold one. */
export function heldToken( id ) {
	try {
		const raw = sessionStorage.getItem( tokenKey( id ) );
		if ( !raw ) {
			return null;
		}
		const c = JSON.parse( raw );
		return c && c.expires_at > Date.now() ? c : null;
	} catch {
		return null;
	}
}

function keepToken( id, token, expires_at ) {
	try {
		sessionStorage.setItem( tokenKey( id ), JSON.stringify( { token, expires_at } ) );
	} catch {
		// storage full or off: the claim lasts this page
	}
}

function dropToken( id ) {
	try {
		sessionStorage.removeItem( tokenKey( id ) );
	} catch {
		// nothing to drop
	}
}

function mergeMessages( into, more ) {
	const seen = new Set( into.map( ( m ) => m.id ) );
	let added = false;
	for ( const m of more ) {
		if ( m && m.id && !seen.has( m.id ) ) {
			into.push( m );
			seen.add( m.id );
			added = true;
		}
	}
	if ( added ) {
		into.sort( ( a, b ) => a.seq - b.seq );
	}
}

function lastSeq( messages ) {
	return messages.reduce( ( s, m ) => Math.max( s, m.seq || 0 ), 0 );
}

/** Opens an item: its detail, thread and presence. */
export async function openItem( id ) {
	if ( current.id === id && ( current.detail || current.loading ) ) {
		return;
	}
	closeItem();
	const gen = ++itemGen;
	current.id = id;
	current.loading = true;
	current.error = null;
	current.messages = [];
	current.viewers = [];
	current.form = null;
	live.watch( id );
	try {
		const d = await api( 'GET', `/api/v1/items/${ seg( id ) }` );
		if ( gen !== itemGen ) {
			return;
		}
		current.detail = { item: d.item, state: d.state, resolved_by: d.resolved_by || null, outcome: d.outcome || null, claim: d.claim || null };
		mergeMessages( current.messages, d.messages || [] );
		if ( !d.claim || !state.me || d.claim.holder !== state.me.name ) {
			dropToken( id );
		}
	} catch ( e ) {
		if ( gen === itemGen ) {
			current.error = e instanceof ApiError && e.status === 404 ? t( 'patrolchat-item-not-found' ) : errorText( e );
		}
	} finally {
		if ( gen === itemGen ) {
			current.loading = false;
		}
	}
}

/** Leaves the open item. */
export function closeItem() {
	if ( current.id ) {
		live.unwatch( current.id );
	}
	itemGen++;
	current.id = null;
	current.detail = null;
	current.loading = false;
	current.error = null;
	current.messages = [];
	current.viewers = [];
	current.form = null;
}

async function catchUpItem() {
	const id = current.id;
	if ( !id ) {
		return;
	}
	const gen = itemGen;
	try {
		const d = await api( 'GET', `/api/v1/items/${ seg( id ) }` );
		const more = await api( 'GET', `/api/v1/items/${ seg( id ) }/messages?after=${ lastSeq( current.messages ) }&limit=500` );
		if ( gen !== itemGen ) {
			return;
		}
		current.detail = { item: d.item, state: d.state, resolved_by: d.resolved_by || null, outcome: d.outcome || null, claim: d.claim || null };
		mergeMessages( current.messages, d.messages || [] );
		mergeMessages( current.messages, more || [] );
	} catch {
		// the next reconnect tries again
	}
}

/** Whether this person holds the open item's claim. */
export const holding = computed( () => {
	now.value; // eslint-disable-line no-unused-expressions
	const d = current.detail;
	return !!( d && d.claim && state.me && d.claim.holder === state.me.name && d.claim.expires_at > Date.now() );
} );

export async function claim( id = current.id ) {
	if ( !id ) {
		return false;
	}
	current.busy = true;
	try {
		const lease = await api( 'POST', `/api/v1/items/${ seg( id ) }/claim`, {} );
		keepToken( id, lease.token, lease.expires_at );
		claimed( id, lease.holder || state.me.name, lease.expires_at );
		clearNotice();
		return true;
	} catch ( e ) {
		if ( e.code === 'claimed' && current.id === id && current.detail ) {
			const err = e.body.error || {};
			current.detail.claim = { holder: err.holder || e.body.holder, expires_at: err.expires_at };
		}
		notify( 'error', errorText( e ) );
		return false;
	} finally {
		current.busy = false;
	}
}

function claimed( id, holder, expires_at ) {
	if ( current.id === id && current.detail ) {
		current.detail.claim = { holder, expires_at };
	}
	replaceRow( id, ( r ) => ( { ...r, claim: { holder, expires_at } } ) );
}

export async function release( id = current.id ) {
	const held = heldToken( id );
	if ( !held ) {
		notify( 'warning', t( 'patrolchat-not-holding' ) );
		return false;
	}
	current.busy = true;
	try {
		await api( 'POST', `/api/v1/items/${ seg( id ) }/release`, { token: held.token } );
		dropToken( id );
		if ( current.id === id && current.detail ) {
			current.detail.claim = null;
		}
		replaceRow( id, ( r ) => ( { ...r, claim: null } ) );
		notify( 'success', t( 'patrolchat-released' ) );
		return true;
	} catch ( e ) {
		notify( 'error', errorText( e ) );
		return false;
	} finally {
		current.busy = false;
	}
}

export async function resolve( id, outcome, note ) {
	let held = heldToken( id );
	if ( !held && !isAdmin.value ) {
		if ( !( await claim( id ) ) ) {
			return false;
		}
		held = heldToken( id );
	}
	current.busy = true;
	try {
		const body = { outcome };
		if ( held ) {
			body.token = held.token;
		}
		if ( note && note.trim() ) {
			body.note = note.trim();
		}
		await api( 'POST', `/api/v1/items/${ seg( id ) }/resolve`, body );
		dropToken( id );
		resolvedHere( id, state.me.name, outcome );
		current.form = null;
		notify( 'success', t( 'patrolchat-resolved-notice', t( `patrolchat-outcome-${ outcome }` ) ) );
		return true;
	} catch ( e ) {
		notify( 'error', errorText( e ) );
		return false;
	} finally {
		current.busy = false;
	}
}

function resolvedHere( id, by, outcome ) {
	if ( current.id === id && current.detail ) {
		current.detail.state = 'resolved';
		current.detail.resolved_by = by;
		current.detail.outcome = outcome;
		current.detail.claim = null;
	}
}

export async function escalate( id, workflow, reason ) {
	current.busy = true;
	try {
		const done = await api( 'POST', `/api/v1/items/${ seg( id ) }/escalate`, { workflow, reason } );
		dropToken( id );
		resolvedHere( id, state.me.name, 'escalated' );
		current.form = null;
		const wf = workflowOf( workflow );
		notify( 'success', t( 'patrolchat-escalated-notice', wf ? wf.title : workflow ) );
		return done;
	} catch ( e ) {
		notify( 'error', errorText( e ) );
		return null;
	} finally {
		current.busy = false;
	}
}

/** Opens the resolve or escalate form of the open item. */
export function openForm( which ) {
	if ( !current.detail || current.detail.state === 'resolved' ) {
		return false;
	}
	current.form = which;
	return true;
}

/** Keeps a held claim alive while its item is open. */
async function renewIfDue() {
	const id = current.id;
	if ( !id || !holding.value || current.busy ) {
		return;
	}
	const held = heldToken( id );
	const d = current.detail;
	if ( !held || !d || d.state !== 'open' || d.claim.expires_at - Date.now() > RENEW_BEFORE_MS ) {
		return;
	}
	try {
		const lease = await api( 'POST', `/api/v1/items/${ seg( id ) }/renew`, { token: held.token } );
		keepToken( id, lease.token, lease.expires_at );
		claimed( id, lease.holder || state.me.name, lease.expires_at );
	} catch ( e ) {
		if ( e.status === 409 ) {
			dropToken( id );
			notify( 'warning', errorText( e ) );
		}
	}
}
setInterval( renewIfDue, 15000 );

// --------------------------------------------------------------- threads

export async function postItemMessage( id, text ) {
	try {
		const m = await api( 'POST', `/api/v1/items/${ seg( id ) }/messages`, { text } );
		if ( current.id === id ) {
			mergeMessages( current.messages, [ m ] );
		}
		return true;
	} catch ( e ) {
		notify( 'error', errorText( e ) );
		return false;
	}
}

async function roomPages( wf, after ) {
	const out = [];
	let from = after;
	for ( let i = 0; i < 20; i++ ) {
		const page = await api( 'GET', `/api/v1/workflows/${ seg( wf ) }/messages?after=${ from }&limit=500` );
		if ( !Array.isArray( page ) || page.length === 0 ) {
			break;
		}
		out.push( ...page );
		from = lastSeq( page );
		if ( page.length < 500 ) {
			break;
		}
	}
	return out.slice( -1000 );
}

export async function openRoom( wf ) {
	if ( room.wf === wf && ( room.loading || room.messages.length ) ) {
		return;
	}
	room.wf = wf;
	room.messages = [];
	room.loading = true;
	room.error = null;
	try {
		const msgs = await roomPages( wf, 0 );
		if ( room.wf === wf ) {
			mergeMessages( room.messages, msgs );
		}
	} catch ( e ) {
		if ( room.wf === wf ) {
			room.error = errorText( e );
		}
	} finally {
		if ( room.wf === wf ) {
			room.loading = false;
		}
	}
}

async function catchUpRoom() {
	const wf = room.wf;
	if ( !wf ) {
		return;
	}
	try {
		const msgs = await roomPages( wf, lastSeq( room.messages ) );
		if ( room.wf === wf ) {
			mergeMessages( room.messages, msgs );
		}
	} catch {
		// the next reconnect tries again
	}
}

export async function postRoomMessage( wf, text ) {
	try {
		const m = await api( 'POST', `/api/v1/workflows/${ seg( wf ) }/messages`, { text } );
		if ( room.wf === wf ) {
			mergeMessages( room.messages, [ m ] );
		}
		return true;
	} catch ( e ) {
		notify( 'error', errorText( e ) );
		return false;
	}
}

// ----------------------------------------------------------- live frames

function onFrame( f ) {
	switch ( f.type ) {
		case 'feed.status':
			state.feed = { known: true, connected: !!f.connected, lag_ms: f.lag_ms ?? null, last_event_at: f.last_event_at ?? null };
			return;
		case 'item.new': {
			const item = f.item;
			if ( !item || !item.id ) {
				return;
			}
			for ( const wf of item.workflows || [] ) {
				bump( wf, item.wiki, 1, 0 );
			}
			applyToList( f );
			return;
		}
		case 'item.updated':
			if ( f.item && current.id === f.item.id && current.detail ) {
				current.detail.item = f.item;
			}
			applyToList( f );
			return;
		case 'item.claimed': {
			if ( !claimHolders.has( f.item ) ) {
				for ( const wf of f.workflows || [] ) {
					bump( wf, f.wiki, 0, 1 );
				}
			}
			claimHolders.set( f.item, f.holder );
			if ( current.id === f.item && current.detail ) {
				current.detail.claim = { holder: f.holder, expires_at: f.expires_at };
			}
			if ( !state.me || f.holder !== state.me.name ) {
				dropToken( f.item );
			}
			applyToList( f );
			return;
		}
		case 'item.released': {
			claimHolders.delete( f.item );
			for ( const wf of f.workflows || [] ) {
				bump( wf, f.wiki, 0, -1 );
			}
			if ( current.id === f.item && current.detail && current.detail.claim && current.detail.claim.holder === f.holder ) {
				current.detail.claim = null;
			}
			if ( state.me && f.holder === state.me.name ) {
				dropToken( f.item );
				if ( f.reason === 'expired' ) {
					notify( 'warning', t( 'patrolchat-claim-expired', f.item ) );
				}
			}
			applyToList( f );
			return;
		}
		case 'item.resolved': {
			const wasClaimed = claimHolders.delete( f.item );
			for ( const wf of f.workflows || [] ) {
				bump( wf, f.wiki, -1, wasClaimed ? -1 : 0 );
			}
			const by = f.by && f.by.name ? f.by.name : '?';
			if ( current.id === f.item && current.detail && current.detail.state !== 'resolved' ) {
				resolvedHere( f.item, by, f.outcome );
			}
			dropToken( f.item );
			if ( f.was_yours && ( !state.me || by !== state.me.name ) ) {
				notify( 'warning', t( 'patrolchat-yours-resolved', f.item, by, t( `patrolchat-outcome-${ f.outcome }` ) ) );
			}
			applyToList( f );
			return;
		}
		case 'message.new': {
			const m = f.message;
			if ( !m ) {
				return;
			}
			if ( m.item && m.item === current.id ) {
				mergeMessages( current.messages, [ m ] );
			} else if ( !m.item && m.workflow && m.workflow === room.wf ) {
				mergeMessages( room.messages, [ m ] );
			}
			return;
		}
		case 'mention': {
			const m = f.message;
			if ( m && state.me && m.author !== state.me.name ) {
				const where = m.item || ( m.workflow ? t( 'patrolchat-room-of', m.workflow ) : '' );
				notify( 'notice', t( 'patrolchat-mentioned', m.author, where ) );
			}
			return;
		}
		case 'presence':
			if ( f.item === current.id ) {
				current.viewers = Array.isArray( f.viewers ) ? f.viewers : [];
			}
			return;
		case 'message.hidden':
			if ( typeof f.message === 'string' ) {
				markHidden( f.message, { by: f.by, reason: f.reason, at: f.at } );
			}
	}
}

// ------------------------------------------------------------ moderation

export const mod = reactive( {
	/** Names whose messages this person collapsed. */
	ignores: [],
	/** The open reason dialog: `{kind: 'report'|'hide', message}` or null. */
	dialog: null,
	busy: false
} );

/** Marks a message hidden in the loaded threads: admins and its author keep the text. */
export function markHidden( id, info ) {
	for ( const arr of [ current.messages, room.messages ] ) {
		const m = arr.find( ( x ) => x.id === id );
		if ( !m ) {
			continue;
		}
		if ( isAdmin.value ) {
			m.hidden = { by: info.by || '?', reason: info.reason || '', at: info.at || Date.now() };
		} else if ( state.me && m.author === state.me.name && !m.bot ) {
			// The author keeps their own words, as the api gives them.
			m.hidden = true;
		} else {
			m.hidden = true;
			m.text = '';
			delete m.mentions;
		}
	}
}

export function isIgnored( name ) {
	return mod.ignores.includes( name );
}

export async function loadIgnores() {
	try {
		const names = await api( 'GET', '/api/v1/me/ignores' );
		mod.ignores = Array.isArray( names ) ? names : [];
	} catch {
		// messages stay shown
	}
}

export async function setIgnored( name, on ) {
	try {
		await api( on ? 'PUT' : 'DELETE', `/api/v1/me/ignores/${ seg( name ) }` );
		mod.ignores = on ? [ ...new Set( [ ...mod.ignores, name ] ) ] : mod.ignores.filter( ( n ) => n !== name );
		notify( 'success', t( on ? 'patrolchat-ignored-notice' : 'patrolchat-unignored-notice', name ) );
		return true;
	} catch ( e ) {
		notify( 'error', errorText( e ) );
		return false;
	}
}

/** Sends the reason dialog: a report or (admins) a hide. */
export async function submitReason( reason ) {
	const dlg = mod.dialog;
	if ( !dlg || !reason.trim() ) {
		return false;
	}
	mod.busy = true;
	try {
		const id = dlg.message.id;
		if ( dlg.kind === 'hide' ) {
			await api( 'POST', `/api/v1/messages/${ seg( id ) }/hide`, { reason: reason.trim() } );
			markHidden( id, { by: state.me.name, reason: reason.trim(), at: Date.now() } );
			notify( 'success', t( 'patrolchat-hidden-notice' ) );
		} else {
			await api( 'POST', `/api/v1/messages/${ seg( id ) }/report`, { reason: reason.trim() } );
			notify( 'success', t( 'patrolchat-reported-notice' ) );
		}
		mod.dialog = null;
		return true;
	} catch ( e ) {
		notify( 'error', errorText( e ) );
		return false;
	} finally {
		mod.busy = false;
	}
}

/** The open items of the private `reports` workflow, each with its report. */
export async function loadReports() {
	const page = await api( 'GET', '/api/v1/workflows/reports/items?limit=500' );
	const views = ( page && page.items ) || [];
	return Promise.all( views.filter( ( v ) => v && v.item ).map( async ( v ) => {
		try {
			const d = await api( 'GET', `/api/v1/items/${ seg( v.item.id ) }` );
			return { id: v.item.id, item: d.item || v.item, report: d.report || null, state: d.state };
		} catch {
			return { id: v.item.id, item: v.item, report: null, state: 'open' };
		}
	} ) );
}

export async function resolveReport( id, outcome, note ) {
	const body = { outcome };
	if ( note && note.trim() ) {
		body.note = note.trim();
	}
	try {
		await api( 'POST', `/api/v1/items/${ seg( id ) }/resolve`, body );
		notify( 'success', t( 'patrolchat-resolved-notice', t( `patrolchat-outcome-${ outcome }` ) ) );
		return true;
	} catch ( e ) {
		notify( 'error', errorText( e ) );
		return false;
	}
}

export async function loadAudit( { actor, target, kind, before } = {} ) {
	const q = new URLSearchParams();
	for ( const [ k, v ] of Object.entries( { actor, target, kind, before } ) ) {
		if ( v !== undefined && v !== null && String( v ).trim() !== '' ) {
			q.set( k, String( v ).trim() );
		}
	}
	q.set( 'limit', '100' );
	return api( 'GET', `/api/v1/audit?${ q }` );
}

export async function muteUser( name, hours, reason ) {
	const body = { reason: reason.trim() };
	if ( hours ) {
		body.duration_s = Math.max( 1, Math.round( hours * 3600 ) );
	}
	try {
		await api( 'POST', `/api/v1/users/${ seg( name.trim() ) }/mute`, body );
		notify( 'success', t( 'patrolchat-muted-notice', name.trim() ) );
		return true;
	} catch ( e ) {
		notify( 'error', errorText( e ) );
		return false;
	}
}

export async function unmuteUser( name, reason ) {
	try {
		await api( 'POST', `/api/v1/users/${ seg( name.trim() ) }/unmute`, { reason: reason.trim() } );
		notify( 'success', t( 'patrolchat-unmuted-notice', name.trim() ) );
		return true;
	} catch ( e ) {
		notify( 'error', errorText( e ) );
		return false;
	}
}

export async function loadNotes( id ) {
	const notes = await api( 'GET', `/api/v1/items/${ seg( id ) }/notes` );
	return Array.isArray( notes ) ? notes : [];
}

export async function addNote( id, text ) {
	try {
		return await api( 'POST', `/api/v1/items/${ seg( id ) }/notes`, { text: text.trim() } );
	} catch ( e ) {
		notify( 'error', errorText( e ) );
		return null;
	}
}

export async function loadMyReports() {
	const r = await api( 'GET', '/api/v1/me/reports' );
	return Array.isArray( r ) ? r : [];
}

/** After a reconnect: what happened meanwhile, over HTTP. */
async function catchUp() {
	const jobs = [ loadWorkflows().catch( () => {} ) ];
	if ( list.wf ) {
		jobs.push( loadList( list.wf, { keepCursor: true } ) );
	}
	jobs.push( catchUpItem(), catchUpRoom() );
	await Promise.all( jobs );
}

let workflowsTimer = null;

/** Starts the live connection for the signed-in person. */
export function startSession() {
	loadIgnores();
	live.subscribe( [], [] );
	live.startLive( {
		frame: onFrame,
		open: ( again ) => {
			if ( again ) {
				catchUp();
			} else if ( current.id ) {
				live.watch( current.id );
			}
		},
		failed: async () => {
			// A refused upgrade looks like any failure: is the session gone?
			try {
				await checkAuth();
				if ( !state.me ) {
					signedOut();
				}
			} catch {
				// the api is down: keep retrying
			}
		}
	} );
	clearInterval( workflowsTimer );
	workflowsTimer = setInterval( () => {
		if ( state.me && live.socket.status === 'open' ) {
			loadWorkflows().catch( () => {} );
		}
	}, 60000 );
}

// ------------------------------------------------------------ navigation

/** The workflow to show when none is asked for. */
export function defaultWorkflow() {
	const feed = state.workflows.filter( ( w ) => w.kind === 'feed' );
	const patrol = feed.find( ( w ) => w.name === 'patrol' );
	return ( patrol || feed[ 0 ] || state.workflows[ 0 ] || {} ).name || null;
}

/** Opens the row under the keyboard cursor. */
export function openCursor() {
	const r = visibleRows.value[ list.cursor ];
	if ( r && list.wf ) {
		go( 'item', list.wf, r.id );
	}
}

/** The person's other open items of the same user, from the loaded list. */
export function otherItemsOf( item ) {
	if ( !item ) {
		return [];
	}
	return rows.value.filter( ( r ) => r.id !== item.id && !r.resolved && r.item.user === item.user && r.item.wiki === item.wiki ).slice( 0, 20 );
}

export { route, compareItems };
