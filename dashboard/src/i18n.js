// Interface messages (banana-i18n, MediaWiki's message format) and the
// page's language and direction.
//
// The language comes from `?uselang=`, then the last choice (localStorage),
// then the browser's languages, then English; once signed in, the choice
// kept with the person (`/api/v1/me`, stores/session.js) wins. The English messages the
// first views show are in the page's script, those of views loaded as
// chunks a chunk of their own (`loadViewMessages`, scripts/split-messages.mjs);
// every other language's messages are a chunk of their own, fetched when
// that language is first chosen, so the page does not grow with each
// translation.

import { ref } from 'vue';
import Banana from 'banana-i18n';
import en from 'virtual:messages/initial';

/** Each translation's loader: language code → () => Promise<module>. */
const TRANSLATIONS = Object.fromEntries(
	Object.entries( import.meta.glob( [ '../i18n/*.json', '!../i18n/en.json', '!../i18n/qqq.json' ] ) )
		.map( ( [ path, load ] ) => [ path.replace( /^.*\/|\.json$/g, '' ), load ] )
);

/** Languages with a complete translation: code → [autonym, direction]. */
export const LANGUAGES = {
	ar: [ 'العربية', 'rtl' ],
	de: [ 'Deutsch', 'ltr' ],
	en: [ 'English', 'ltr' ],
	es: [ 'español', 'ltr' ],
	fa: [ 'فارسی', 'rtl' ],
	fr: [ 'français', 'ltr' ],
	he: [ 'עברית', 'rtl' ],
	ja: [ '日本語', 'ltr' ],
	pt: [ 'português', 'ltr' ],
	ru: [ 'русский', 'ltr' ],
	uk: [ 'українська', 'ltr' ],
	'zh-hans': [ '中文（简体）', 'ltr' ]
};

const STORE_KEY = 'patrolchat.lang';

const banana = new Banana( 'en', { finalFallback: 'en' } );
banana.load( strip( en ), 'en' );
/** Languages whose messages are loaded (or being loaded): code → Promise. */
const loaded = new Map( [ [ 'en', Promise.resolve() ] ] );
/** The English messages of the views loaded as chunks, once fetched. */
let viewMessages = null;

/**
 * Fetches the English messages of the views loaded as chunks (lazy.js
 * waits for them with each such view).
 *
 * @return {Promise<void>}
 */
export function loadViewMessages() {
	if ( !viewMessages ) {
		viewMessages = import( 'virtual:messages/views' ).then( ( m ) => {
			banana.load( { ...( m.default || m ) }, 'en' );
			viewsVersion.value++;
		} );
		// A failed fetch may be tried again with the next view.
		viewMessages.catch( () => {
			viewMessages = null;
		} );
	}
	return viewMessages;
}

function load( code ) {
	let p = loaded.get( code );
	if ( !p ) {
		p = TRANSLATIONS[ code ]().then( ( m ) => banana.load( strip( m.default || m ), code ) );
		// A failed fetch may be tried again on the next choice.
		p.catch( () => loaded.delete( code ) );
		loaded.set( code, p );
	}
	return p;
}

function strip( messages ) {
	const out = {};
	for ( const [ k, v ] of Object.entries( messages ) ) {
		if ( !k.startsWith( '@' ) ) {
			out[ k ] = v;
		}
	}
	return out;
}

/** The current language code; reading it makes a render depend on it. */
export const locale = ref( 'en' );
/** Raised when the views' English messages arrive, so that renders read them. */
const viewsVersion = ref( 0 );

function pick( code ) {
	if ( !code ) {
		return null;
	}
	const c = String( code ).toLowerCase();
	if ( LANGUAGES[ c ] ) {
		return c;
	}
	const [ base, ...rest ] = c.split( '-' );
	if ( base === 'iw' ) {
		return 'he';
	}
	if ( base === 'zh' ) {
		// Simplified Chinese for zh, zh-Hans, zh-CN, zh-SG and zh-MY;
		// Traditional (zh-Hant, zh-TW, zh-HK, zh-MO) has no translation yet.
		return rest.some( ( r ) => [ 'hant', 'tw', 'hk', 'mo' ].includes( r ) ) ? null : 'zh-hans';
	}
	return LANGUAGES[ base ] ? base : null;
}

/** The language last chosen in this browser, if any. */
export function storedLanguage() {
	try {
		return pick( localStorage.getItem( STORE_KEY ) );
	} catch {
		return null;
	}
}

/** The language to start in. */
export function initialLanguage() {
	const params = new URLSearchParams( location.search );
	return pick( params.get( 'uselang' ) ) ||
		storedLanguage() ||
		( navigator.languages || [ navigator.language ] ).map( pick ).find( Boolean ) ||
		'en';
}

/**
 * Switches the interface language once its messages are loaded: messages,
 * `<html lang dir>`, and (when asked) remembers it. The header keeps a
 * `?uselang=` in the URL in step (through the router). When the messages
 * cannot be fetched, the language stays as it was and the promise rejects.
 *
 * @param {string} code
 * @param {boolean} [remember]
 * @return {Promise<void>}
 */
export async function setLanguage( code, remember = false ) {
	const c = pick( code ) || 'en';
	await load( c );
	banana.setLocale( c );
	locale.value = c;
	const html = document.documentElement;
	html.lang = c;
	html.dir = LANGUAGES[ c ][ 1 ];
	if ( remember ) {
		try {
			localStorage.setItem( STORE_KEY, c );
		} catch {
			// private mode: the choice lasts this page
		}
	}
}

/** The direction of the current language. */
export function dir() {
	return LANGUAGES[ locale.value ][ 1 ];
}

/**
 * A message, with `$1`… replaced by `params`. The result is text: it is
 * shown with interpolation, never as HTML.
 *
 * @param {string} key
 * @param {...any} params
 * @return {string}
 */
export function t( key, ...params ) {
	// eslint-disable-next-line no-unused-expressions
	locale.value + viewsVersion.value;
	return banana.i18n( key, ...params.map( ( p ) => ( p === null || p === undefined ? '' : p ) ) );
}

/** Whether a message exists in English (every message does). */
export function hasMessage( key ) {
	return Object.prototype.hasOwnProperty.call( en, key ) || banana.getMessage( key ) !== key;
}

/** For Codex's own strings (close buttons and the like). */
export function codexI18n( key, ...params ) {
	return hasMessage( key ) ? t( key, ...params ) : null;
}

const formats = new Map();

/** An Intl formatter for the current language, made once. */
function format( kind, options ) {
	const key = `${ locale.value }|${ kind }|${ JSON.stringify( options ) }`;
	let f = formats.get( key );
	if ( !f ) {
		f = new Intl[ kind ]( locale.value, options );
		formats.set( key, f );
	}
	return f;
}

/** Formats a number for the current language. */
export function num( n ) {
	return format( 'NumberFormat', {} ).format( n );
}

/** Names joined as the language joins a list: "A, B and C". */
export function list( items ) {
	return format( 'ListFormat', { style: 'long', type: 'conjunction' } ).format( items );
}

/** A clock time, `12:05`. */
export function timeOfDay( ms ) {
	return format( 'DateTimeFormat', { hour: '2-digit', minute: '2-digit' } ).format( new Date( ms ) );
}

/** A date and time. */
export function dateTime( ms ) {
	return format( 'DateTimeFormat', { dateStyle: 'medium', timeStyle: 'short' } ).format( new Date( ms ) );
}

/** "3 minutes ago" (seconds, minutes, hours, days, months, years). */
export function ago( ms, now = Date.now() ) {
	const s = Math.round( ( ms - now ) / 1000 );
	const rtf = format( 'RelativeTimeFormat', { numeric: 'auto', style: 'short' } );
	const a = Math.abs( s );
	if ( a < 60 ) {
		return rtf.format( s, 'second' );
	}
	if ( a < 3600 ) {
		return rtf.format( Math.round( s / 60 ), 'minute' );
	}
	if ( a < 86400 ) {
		return rtf.format( Math.round( s / 3600 ), 'hour' );
	}
	if ( a < 86400 * 45 ) {
		return rtf.format( Math.round( s / 86400 ), 'day' );
	}
	if ( a < 86400 * 365 ) {
		return rtf.format( Math.round( s / ( 86400 * 30.44 ) ), 'month' );
	}
	return rtf.format( Math.round( s / ( 86400 * 365.25 ) ), 'year' );
}
