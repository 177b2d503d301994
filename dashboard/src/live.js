// The WebSocket to `/api/v1/live`: reconnects with exponential backoff and
// jitter (1 s → 30 s), and on every (re)connection sends the subscription
// and re-watches the watched items before telling the app to catch up over
// HTTP. Watched items get a heartbeat every 10 s (a third of the server's
// presence TTL). A socket that hears nothing for 75 s (the server sends the
// feed status every 30 s) is taken for dead and replaced.

import { reactive } from 'vue';
import { backoff } from './text.js';

const HEARTBEAT_MS = 10000;
const SILENCE_MS = 75000;
/** A connection that lasted this long resets the backoff. */
const STABLE_MS = 10000;

export const socket = reactive( {
	/** `connecting`, `open` or `closed` (waiting to retry). */
	status: 'connecting',
	/** When the next attempt starts (ms), while `closed`. */
	retryAt: 0,
	/** Failed attempts in a row. */
	attempts: 0
} );

let ws = null;
let stopped = true;
let retryTimer = null;
let beatTimer = null;
let silenceTimer = null;
let openedAt = 0;
let everOpened = false;
let subscription = { op: 'subscribe' };
const watched = new Map(); // item → composing
const handlers = { frame: () => {}, open: () => {}, failed: () => {} };

function url() {
	const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
	return `${ scheme }//${ location.host }/api/v1/live`;
}

function send( op ) {
	if ( ws && ws.readyState === WebSocket.OPEN ) {
		try {
			ws.send( JSON.stringify( op ) );
		} catch {
			// the close handler reconnects
		}
	}
}

function armSilence() {
	clearTimeout( silenceTimer );
	silenceTimer = setTimeout( () => {
		if ( ws ) {
			ws.close( 4000, 'silent' );
			dropped();
		}
	}, SILENCE_MS );
}

function connect() {
	clearTimeout( retryTimer );
	if ( stopped ) {
		return;
	}
	socket.status = 'connecting';
	let s;
	try {
		s = new WebSocket( url() );
	} catch {
		schedule();
		return;
	}
	ws = s;
	let opened = false;
	s.onopen = () => {
		if ( ws !== s ) {
			return;
		}
		opened = true;
		openedAt = Date.now();
		socket.status = 'open';
		socket.retryAt = 0;
		send( subscription );
		for ( const [ item, composing ] of watched ) {
			send( { op: 'watch', item } );
			if ( composing ) {
				send( { op: 'composing', item, on: true } );
			}
		}
		armSilence();
		const again = everOpened;
		everOpened = true;
		handlers.open( again );
	};
	s.onmessage = ( ev ) => {
		if ( ws !== s ) {
			return;
		}
		armSilence();
		let frame;
		try {
			frame = JSON.parse( ev.data );
		} catch {
			return;
		}
		if ( frame && typeof frame.type === 'string' ) {
			handlers.frame( frame );
		}
	};
	s.onclose = () => {
		if ( ws !== s ) {
			return;
		}
		if ( opened && Date.now() - openedAt >= STABLE_MS ) {
			socket.attempts = 0;
		}
		if ( !opened ) {
			handlers.failed( socket.attempts );
		}
		dropped();
	};
	s.onerror = () => {
		// onclose follows
	};
}

function dropped() {
	clearTimeout( silenceTimer );
	if ( ws ) {
		ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
		ws = null;
	}
	schedule();
}

function schedule() {
	if ( stopped ) {
		socket.status = 'closed';
		return;
	}
	const delay = backoff( socket.attempts );
	socket.attempts++;
	socket.status = 'closed';
	socket.retryAt = Date.now() + delay;
	clearTimeout( retryTimer );
	retryTimer = setTimeout( connect, delay );
}

/**
 * Opens the socket and keeps it open until `stopLive`.
 *
 * @param {{frame: Function, open: Function, failed: Function}} on
 */
export function startLive( on ) {
	Object.assign( handlers, on );
	if ( !stopped ) {
		return;
	}
	stopped = false;
	socket.attempts = 0;
	everOpened = false;
	connect();
	clearInterval( beatTimer );
	beatTimer = setInterval( () => {
		for ( const item of watched.keys() ) {
			send( { op: 'watch', item } );
		}
	}, HEARTBEAT_MS );
	window.addEventListener( 'online', retryNow );
}

/** Closes the socket for good (sign-out). */
export function stopLive() {
	stopped = true;
	clearTimeout( retryTimer );
	clearInterval( beatTimer );
	clearTimeout( silenceTimer );
	window.removeEventListener( 'online', retryNow );
	if ( ws ) {
		const s = ws;
		ws = null;
		s.onopen = s.onmessage = s.onclose = s.onerror = null;
		s.close( 1000 );
	}
	watched.clear();
	socket.status = 'closed';
	socket.retryAt = 0;
}

/** Tries at once when waiting for a retry (the network came back). */
export function retryNow() {
	if ( !stopped && !ws ) {
		connect();
	}
}

/** Which workflows and wikis to hear about (empty: all). */
export function subscribe( workflows = [], wikis = [] ) {
	subscription = { op: 'subscribe', workflows, wikis };
	send( subscription );
}

/** Joins an item's presence (and hears every frame about it). */
export function watch( item ) {
	if ( !watched.has( item ) ) {
		watched.set( item, false );
	}
	send( { op: 'watch', item } );
}

/** Leaves an item's presence. */
export function unwatch( item ) {
	if ( watched.delete( item ) ) {
		send( { op: 'unwatch', item } );
	}
}

/** Shows (or stops showing) that this person is writing about an item. */
export function composing( item, on ) {
	if ( !watched.has( item ) || watched.get( item ) === on ) {
		return;
	}
	watched.set( item, on );
	send( { op: 'composing', item, on } );
}
