//! The `@ably/msgpack-js` 0.4.1 dialect of MessagePack, as m-ld-js uses it.
