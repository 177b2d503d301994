// How far a person has read each thread, kept by the server
// (`POST /api/v1/threads/{thread}/read` with the newest `seq` on screen),
// so that unread is the same on every device. Marks are sent at most once
// per `wait` (the first at once, the newest of the rest when the wait is
// over); a mark no higher than the one known is not sent.

/**
 * A read marker over `send( thread, seq )` (a promise).
 *
 * @param {(thread: string, seq: number) => Promise<any>} send
 * @param {{wait?: number, setTimer?: Function, clearTimer?: Function}} [opts]
 */
export function readMarker( send, { wait = 2000, setTimer = setTimeout, clearTimer = clearTimeout } = {} ) {
	/** thread → the highest seq marked (sent or waiting). */
	const marks = new Map();
	/** thread → seq, waiting for the wait to end. */
	const pending = new Map();
	let timer = null;

	function flush() {
		const out = [ ...pending ];
		pending.clear();
		return Promise.all( out.map( ( [ thread, seq ] ) => Promise.resolve( send( thread, seq ) ).catch( () => {
			// Not recorded: the next mark of that thread sends it again.
			if ( marks.get( thread ) === seq ) {
				marks.delete( thread );
			}
		} ) ) );
	}

	function cool() {
		timer = setTimer( () => {
			timer = null;
			if ( pending.size ) {
				flush();
				cool();
			}
		}, wait );
	}

	return {
		/** The highest seq of `thread` marked here (0: none). */
		upTo( thread ) {
			return marks.get( thread ) || 0;
		},
		/**
		 * Marks `thread` read up to `seq`.
		 *
		 * @return {boolean} whether it was higher than the known mark
		 */
		mark( thread, seq ) {
			if ( !thread || !Number.isInteger( seq ) || seq <= 0 || seq <= ( marks.get( thread ) || 0 ) ) {
				return false;
			}
			marks.set( thread, seq );
			pending.set( thread, seq );
			if ( !timer ) {
				flush();
				cool();
			}
			return true;
		},
		/** Sends what waits now (the page is being left). */
		flush,
		/** Forgets every mark (sign-out). */
		forget() {
			clearTimer( timer );
			timer = null;
			marks.clear();
			pending.clear();
		}
	};
}
