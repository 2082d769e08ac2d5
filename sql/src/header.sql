-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION engage" to load this file. \quit

------------------------------------------------------------------------------
-- The install script of the engage extension, built by `make` from the
-- files of sql/src/ in the order of SQL_SOURCES in the Makefile: edit those
-- files, not this one.  Changes from the previous version go into its
-- upgrade script too (sql/engage--<previous>--<this>.sql).
--
-- All objects live in @extschema@ (engage); every reference is
-- schema-qualified so that the caller's search_path plays no part.
------------------------------------------------------------------------------
