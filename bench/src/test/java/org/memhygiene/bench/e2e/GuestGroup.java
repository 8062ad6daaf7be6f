package org.memhygiene.bench.e2e;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * A group of phases that share guests, in {@link RealVmIT}: a nested test class (one instance, so that
 * a phase's result is there for the next) whose {@code @BeforeAll} boots and fills the guests and whose
 * {@code @AfterAll} destroys them; its tests, one per phase, run in their {@code @Order}.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Nested
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@interface GuestGroup {}
