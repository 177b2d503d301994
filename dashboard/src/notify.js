// Desktop notifications through the browser's Notification API (a chunk
// of its own: the unread store loads it when a person has opted in). A person
// opts in per kind (mention, reply, resolution, conversation), kept in this
// browser under their name; the permission is asked only when they opt in.
// One shows only while the tab is hidden, and clicking it brings the tab
// forward and opens the message. The header's badge and the inbox show
// everything, always.

import { genderOf } from './genders.js';
/** The kinds a person may opt in to, in the order the settings list them. */
export const KINDS = [ 'mention', 'reply', 'resolution', 'conversation' ];

const KEY = 'patrolchat.notify.';

/** A person's choices: kind → true when opted in. */
export function settingsOf( name ) {
	try {
		const s = JSON.parse( localStorage.getItem( KEY + name ) || '{}' );
		return Object.fromEntries( KINDS.map( ( k ) => [ k, !!( s && s[ k ] === true ) ] ) );
	} catch {
		return Object.fromEntries( KINDS.map( ( k ) => [ k, false ] ) );
	}
}

/** Keeps a person's choices. */
export function saveSettings( name, settings ) {
	try {
		localStorage.setItem( KEY + name, JSON.stringify( Object.fromEntries( KINDS.map( ( k ) => [ k, settings[ k ] === true ] ) ) ) );
	} catch {
		// storage off: the choice lasts this page
	}
}

/** The kind an inbox entry notifies as: its conversation's, or its own. */
export function kindOf( entry ) {
	return entry.conversation || String( entry.thread || '' ).startsWith( 'dm-' ) ? 'conversation' : entry.kind;
}

/**
 * Whether to show a desktop notification: permission granted, the kind
 * opted in, and the tab hidden.
 *
 * @param {{kind: string, settings: Object, visibility: string, permission: string}} s
 */
export function shouldNotify( { kind, settings, visibility, permission } ) {
	return permission === 'granted' && visibility === 'hidden' && !!settings && settings[ kind ] === true;
}

/** An entry's title in the person's language (`t` of i18n.js): who did what. */
export function titleOf( e, t ) {
	const by = e.by || '?';
	switch ( kindOf( e ) ) {
		case 'conversation': return t( 'patrolchat-notify-conversation', by, genderOf( by ) );
		case 'reply': return t( 'patrolchat-notify-reply', by, genderOf( by ) );
		case 'resolution': return t( 'patrolchat-notify-resolution', by, genderOf( by ) );
		default: return t( 'patrolchat-notify-mention', by, genderOf( by ) );
	}
}

/**
 * Shows an entry as a desktop notification when `shouldNotify` says so.
 *
 * @param {string} name the person
 * @param {Object} entry an inbox entry (`{id, kind, by, excerpt, message, ...}`)
 * @param {Function} open opens the message in the page
 * @param {Function} t i18n.js's `t`
 * @return {Notification|null}
 */
export function notifyDesktop( name, entry, open, t ) {
	const N = globalThis.Notification;
	if ( !N || !shouldNotify( { kind: kindOf( entry ), settings: settingsOf( name ), visibility: document.visibilityState, permission: N.permission } ) ) {
		return null;
	}
	let n;
	try {
		n = new N( titleOf( entry, t ), { body: entry.excerpt || '', tag: `message:${ entry.message || entry.id }`, lang: document.documentElement.lang, dir: 'auto' } );
	} catch {
		return null;
	}
	n.onclick = () => {
		window.focus();
		n.close();
		open();
	};
	return n;
}
