// The shortcut keys, bound by physical position (`KeyboardEvent.code`), so
// that `j` is the same key on a Hebrew, Arabic or Cyrillic layout. A person
// may change them (the shortcuts dialog); their keys are kept in
// localStorage under their name.

import { reactive } from 'vue';

/** Action → default key (`code`, `Shift+` in front when shifted), in the order the dialog lists them. */
export const DEFAULT_KEYS = Object.freeze( {
	next: 'KeyJ',
	previous: 'KeyK',
	claim: 'KeyC',
	fine: 'KeyF',
	'revert-vandalism': 'KeyQ',
	'revert-warn': 'KeyV',
	'revert-good-faith': 'KeyG',
	skip: 'KeyS',
	escalate: 'KeyE',
	resolve: 'KeyR',
	warn: 'KeyW',
	tag: 'KeyD',
	report: 'KeyB',
	ask: 'KeyA',
	thank: 'KeyT',
	patrol: 'KeyM',
	'diff-next': 'KeyN',
	'diff-previous': 'KeyP',
	'diff-layout': 'KeyL',
	message: 'Slash',
	help: 'Shift+Slash'
} );

/** Keys that never become shortcuts (they move, open, close or type). */
const RESERVED = /^(Shift\+)?(Enter|NumpadEnter|Escape|Tab|Space|Backspace|Delete|Arrow.*|Home|End|PageUp|PageDown|Shift.*|Control.*|Alt.*|Meta.*|CapsLock|ContextMenu|F\d+)$/;

/** The key of an event: `KeyJ`, `Shift+Slash`; from `key` when the event has no `code`. */
export function comboOf( e ) {
	let code = e.code || '';
	if ( !code && typeof e.key === 'string' ) {
		if ( /^[a-z]$/i.test( e.key ) ) {
			code = `Key${ e.key.toUpperCase() }`;
		} else if ( /^[0-9]$/.test( e.key ) ) {
			code = `Digit${ e.key }`;
		} else if ( e.key === '?' ) {
			return 'Shift+Slash';
		} else if ( e.key === '/' ) {
			code = 'Slash';
		}
	}
	if ( !code ) {
		return '';
	}
	return e.shiftKey ? `Shift+${ code }` : code;
}

/** Whether a key may be bound to an action. */
export function bindable( combo ) {
	return !!combo && !RESERVED.test( combo );
}

/** The person's keys: action → combo. */
export const keys = reactive( { ...DEFAULT_KEYS } );

let owner = null;

function storageKey( name ) {
	return `patrolchat.keys.${ name }`;
}

function save() {
	if ( !owner ) {
		return;
	}
	const changed = {};
	for ( const [ action, combo ] of Object.entries( keys ) ) {
		if ( combo !== DEFAULT_KEYS[ action ] ) {
			changed[ action ] = combo;
		}
	}
	try {
		if ( Object.keys( changed ).length ) {
			localStorage.setItem( storageKey( owner ), JSON.stringify( changed ) );
		} else {
			localStorage.removeItem( storageKey( owner ) );
		}
	} catch {
		// storage off: the keys last this page
	}
}

/** Loads a person's keys (their changes over the defaults). */
export function loadKeys( name ) {
	owner = name || null;
	Object.assign( keys, DEFAULT_KEYS );
	if ( !owner ) {
		return;
	}
	try {
		const saved = JSON.parse( localStorage.getItem( storageKey( owner ) ) || '{}' );
		for ( const [ action, combo ] of Object.entries( saved || {} ) ) {
			if ( Object.prototype.hasOwnProperty.call( DEFAULT_KEYS, action ) && typeof combo === 'string' && bindable( combo ) ) {
				setKey( action, combo, false );
			}
		}
	} catch {
		// unreadable: the defaults
	}
}

/**
 * Binds `combo` to `action`; the action that had it takes `action`'s old
 * key (the two swap), so no key does two things.
 *
 * @return {string|null} the action that took the old key, if any
 */
export function setKey( action, combo, persist = true ) {
	if ( !Object.prototype.hasOwnProperty.call( DEFAULT_KEYS, action ) || !bindable( combo ) ) {
		return null;
	}
	const old = keys[ action ];
	let swapped = null;
	for ( const [ other, c ] of Object.entries( keys ) ) {
		if ( other !== action && c === combo ) {
			keys[ other ] = old;
			swapped = other;
		}
	}
	keys[ action ] = combo;
	if ( persist ) {
		save();
	}
	return swapped;
}

/** Puts every key back to its default. */
export function resetKeys() {
	Object.assign( keys, DEFAULT_KEYS );
	save();
}

/** The action an event's key is bound to, or null. */
export function actionOf( e ) {
	// `?` typed without Shift held (a synthetic or remapped event) is Shift+Slash.
	const combo = e.key === '?' && e.code === 'Slash' && !e.shiftKey ? 'Shift+Slash' : comboOf( e );
	if ( !combo ) {
		return null;
	}
	for ( const [ action, c ] of Object.entries( keys ) ) {
		if ( c === combo ) {
			return action;
		}
	}
	// `?` and `/` wherever the layout puts them, unless that key is bound.
	if ( e.key === '?' ) {
		return 'help';
	}
	return null;
}
