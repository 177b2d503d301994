// Mounts the page (App.vue with its real views and stores) on a memory
// router, against a fake api: `fetch` answers from a table of routes and
// records every request; the WebSocket never connects.
import { vi, expect } from 'vitest';
import { createApp, h, nextTick } from 'vue';
import { createPinia, setActivePinia } from 'pinia';
import { createMemoryHistory } from 'vue-router';
import App from '../src/App.vue';
import QueueList from '../src/components/QueueList.vue';
import ItemList from '../src/components/ItemList.vue';
import ItemPane from '../src/components/ItemPane.vue';
import RoomView from '../src/components/RoomView.vue';
import { AdminPane, MyReports, SearchView, InboxView, ConversationsView, ConversationView } from '../src/lazy.js';
import { makeRouter } from '../src/router.js';
import { codexI18n } from '../src/i18n.js';
import { setCsrf } from '../src/api.js';
import { useSessionStore } from '../src/stores/session.js';

class SilentSocket {
	static CONNECTING = 0;
	static OPEN = 1;
	static CLOSING = 2;
	static CLOSED = 3;
	constructor() {
		this.readyState = 0;
	}
	send() {}
	close() {
		this.readyState = 3;
	}
	addEventListener() {}
	removeEventListener() {}
}

class Observer {
	observe() {}
	unobserve() {}
	disconnect() {}
}

/**
 * A fake api. `routes` maps `'METHOD /path'` (the path without its query
 * string) to an answer: a body (200), `{status, body}` made with `reply`,
 * or a function of the request giving either. Unknown paths answer 404.
 */
export function fakeApi( routes ) {
	const calls = [];
	const fetch = vi.fn( async ( url, opts = {} ) => {
		const method = opts.method || 'GET';
		const path = String( url ).split( '?' )[ 0 ];
		const req = {
			method, path, url: String( url ),
			headers: opts.headers || {},
			body: opts.body ? JSON.parse( opts.body ) : undefined
		};
		// `POST /api/v1/items/{id}/actions` names its action in the body: it
		// is routed and recorded as `…/actions/<action>`, the body without
		// the name, and what went on the wire is kept as `wire`.
		if ( method === 'POST' && /\/actions$/.test( path ) && req.body && req.body.action ) {
			const { action, ...rest } = req.body;
			req.wire = { path, action };
			req.path = `${ path }/${ action }`;
			req.body = rest;
		}
		calls.push( req );
		let answer = routes[ `${ method } ${ req.path }` ];
		if ( typeof answer === 'function' ) {
			answer = answer( req );
		}
		if ( answer === undefined ) {
			answer = reply( 404, { error: { code: 'not_found', message: 'not found' } } );
		}
		const r = answer && answer.__reply ? answer : reply( 200, answer );
		return new Response( r.status === 204 ? null : JSON.stringify( r.body ), { status: r.status, headers: { 'Content-Type': 'application/json' } } );
	} );
	vi.stubGlobal( 'fetch', fetch );
	return {
		calls,
		/** The requests made to `'METHOD /path'`. */
		to: ( key ) => calls.filter( ( c ) => `${ c.method } ${ c.path }` === key )
	};
}

/** An answer with a status. */
export function reply( status, body ) {
	return { __reply: true, status, body };
}

/** A signed-in person, with the fields of `GET /api/v1/me`. */
export function person( over = {} ) {
	return {
		name: 'Alice', groups: [], role: 'patroller', blocked: false, edit_count: 100, csrf: 'csrf-1',
		wikis: {}, global_groups: [], conduct: {},
		...over
	};
}

/** An item as `GET /api/v1/items/{id}` gives it. */
export function itemDetail( over = {}, item = {} ) {
	return {
		item: {
			id: 'enwiki-1', wiki: 'enwiki', title: 'Foo', namespace: 0, kind: 'edit', user: 'Bob', performer: 'account',
			priority: 10, created_at: Date.now() - 60000, server_url: 'https://en.wikipedia.org', workflows: [ 'patrol' ],
			revisions: [ { rev_id: 2, old_rev_id: 1, timestamp: Math.floor( Date.now() / 1000 ), comment: 'fix', byte_delta: 3 } ],
			...item
		},
		state: 'open',
		claim: null,
		messages: [],
		viewer_role: 'patroller',
		...over
	};
}

/** Lets promises, timers and renders settle. */
export async function settle() {
	for ( let i = 0; i < 5; i++ ) {
		await new Promise( ( r ) => setTimeout( r, 0 ) );
		await nextTick();
	}
}

/**
 * Mounts the page at `path`, signed in as `me`.
 *
 * @return {Promise<{el: HTMLElement, router, pinia, session, unmount: Function}>}
 */
export async function mountPage( path, me ) {
	vi.stubGlobal( 'WebSocket', SilentSocket );
	vi.stubGlobal( 'ResizeObserver', Observer );
	vi.stubGlobal( 'IntersectionObserver', Observer );
	if ( !Element.prototype.scrollIntoView ) {
		Element.prototype.scrollIntoView = () => {};
	}
	const pinia = createPinia();
	setActivePinia( pinia );
	const router = makeRouter( createMemoryHistory(), { QueueList, ItemList, ItemPane, RoomView, AdminPane, MyReports, SearchView, InboxView, ConversationsView, ConversationView } );
	const session = useSessionStore();
	session.me = me;
	session.authChecked = true;
	setCsrf( me && me.csrf );
	await router.push( path );
	const el = document.createElement( 'div' );
	document.body.append( el );
	const app = createApp( { render: () => h( App ) } );
	app.provide( 'CdxI18nFunction', codexI18n );
	app.use( pinia );
	app.use( router );
	app.mount( el );
	await settle();
	return {
		el, router, pinia, session,
		unmount() {
			app.unmount();
			el.remove();
			document.body.innerHTML = '';
		}
	};
}

/** Waits until `find()` gives an element, and returns it. */
export async function waitFor( find, what = 'element' ) {
	let found = null;
	await vi.waitFor( () => {
		found = find();
		expect( found, what ).toBeTruthy();
	}, { timeout: 3000, interval: 10 } );
	return found;
}

/** Types into a Codex text area (or input) inside `root`. */
export async function typeInto( root, text ) {
	const box = root.querySelector( 'textarea' ) || root.querySelector( 'input' );
	box.value = text;
	box.dispatchEvent( new Event( 'input', { bubbles: true } ) );
	await nextTick();
	return box;
}
